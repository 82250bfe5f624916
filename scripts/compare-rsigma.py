#!/usr/bin/env python3
"""Compare Vigil's detections with the rsigma CLI's on the same events, side by side.

    R=../shared/data/sigma/rules/windows; LOGS=../shared/data/evtx-attack-samples
    cargo run --release -p vigil-guard --example scan -- --dump-flat /tmp/flat.jsonl $R $LOGS
    rsigma engine eval -r $R --output-format ndjson --include-event --no-stats \
        < /tmp/flat.jsonl > /tmp/rsigma.ndjson
    cargo run --release -p vigil -- guard --rules $R --format jsonl -o /tmp/vigil.jsonl $LOGS
    scripts/compare-rsigma.py /tmp/flat.jsonl.idx /tmp/rsigma.ndjson /tmp/vigil.jsonl

rsigma reads the flat field maps Vigil matches (the `_n` field numbers each event; the
.idx file gives its source and record). A detection is (source, record, rule id). The
script prints the counts made by both, by one only, and the detections only one engine
makes, grouped by rule, channel and EventID (rsigma without a pipeline matches every rule
against every event, whatever its logsource, so those show events of other logsources).
"""

import collections
import json
import sys


def main(index_path, rsigma_path, vigil_path):
    where = {}
    with open(index_path, encoding="utf-8") as f:
        for line in f:
            n, source, record = line.rstrip("\n").split("\t")
            where[int(n)] = (source, int(record))

    vigil = {}
    with open(vigil_path, encoding="utf-8") as f:
        for line in f:
            a = json.loads(line)
            key = (a["source"], a["record"], a.get("rule_id") or a["title"])
            vigil[key] = (a["title"], a["event"].get("Channel"), a["event"].get("EventID"))

    rsigma = {}
    with open(rsigma_path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            event = d.get("event") or {}
            if "_n" not in event:
                continue
            source, record = where[event["_n"]]
            key = (source, record, d.get("rule_id") or d["rule_title"])
            rsigma[key] = (d["rule_title"], event.get("Channel"), event.get("EventID"))

    both = vigil.keys() & rsigma.keys()
    print(f"vigil {len(vigil)}  rsigma {len(rsigma)}  both {len(both)}  "
          f"rsigma only {len(rsigma.keys() - vigil.keys())}  vigil only {len(vigil.keys() - rsigma.keys())}")
    for name, mine, other in (("rsigma only", rsigma, vigil), ("vigil only", vigil, rsigma)):
        groups = collections.Counter(v for k, v in mine.items() if k not in other)
        if groups:
            print(f"\n{name} (count, rule, channel, EventID):")
            for (title, channel, event_id), count in groups.most_common():
                print(f"{count:6}  {title}  [{channel} {event_id}]")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
