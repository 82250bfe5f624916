#!/usr/bin/env python3
"""Per-attack coverage of `vigil guard`: alerts per attack log and ATT&CK techniques named.

Runs a vigil binary once over a folder of attack logs (one file = one recorded attack) with
`--format jsonl --min-level info`, then reports, for each level threshold, the median and
mean number of alerts per file, how many files got at least one alert, and how many files
got an alert tagged with an ATT&CK technique.

Usage: scripts/attack-coverage.py VIGIL_BINARY ATTACK_DIR [-- extra vigil guard args]
Example: scripts/attack-coverage.py target/release/vigil ../shared/data/evtx-attack-samples
"""
import collections
import json
import os
import statistics
import subprocess
import sys

LEVELS = ["informational", "low", "medium", "high", "critical"]
ALIASES = {"info": "informational"}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, folder = sys.argv[1], sys.argv[2]
    extra = sys.argv[4:] if len(sys.argv) > 3 and sys.argv[3] == "--" else []
    files = sorted(
        os.path.join(d, f)
        for d, _, fs in os.walk(folder)
        for f in fs
        if f.lower().endswith((".evtx", ".json", ".jsonl"))
    )
    out = subprocess.run(
        [binary, "guard", folder, "--format", "jsonl", "--min-level", "info", *extra],
        capture_output=True,
        text=True,
    )
    per_file = collections.defaultdict(list)
    for line in out.stdout.splitlines():
        a = json.loads(line)
        level = ALIASES.get(a.get("level") or "informational", a.get("level") or "informational")
        techniques = {t for t in a.get("tags", []) if t.lower().startswith("attack.t")}
        per_file[os.path.normpath(a["source"])].append((level, techniques))
    print(f"{len(files)} attack files")
    for threshold in LEVELS:
        rank = LEVELS.index(threshold)
        counts, hit, technique = [], 0, 0
        for f in files:
            alerts = [a for a in per_file.get(os.path.normpath(f), []) if LEVELS.index(a[0]) >= rank]
            counts.append(len(alerts))
            hit += bool(alerts)
            technique += any(t for _, t in alerts)
        print(
            f">= {threshold:13} median {statistics.median(counts):6.1f}  mean {statistics.mean(counts):7.1f}  "
            f"files alerted {hit:3}  files with a technique {technique:3}  alerts {sum(counts)}"
        )


if __name__ == "__main__":
    main()
