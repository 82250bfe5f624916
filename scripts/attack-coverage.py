#!/usr/bin/env python3
"""Per-attack coverage of `vigil guard`: alerts per attack log and ATT&CK techniques named.

Runs a vigil binary once over a folder of attack logs (one file = one recorded attack) with
`--format jsonl --min-level info`, then reports, for each level threshold, the median and
mean number of alerts per file, how many files got at least one alert, and how many files
got an alert tagged with an ATT&CK technique. Where the recording says what it is, also how
many files got the right one: the tactic of a file under a folder named for one
(`Credential Access/...`), and the technique of a file whose name holds an id (`..._t1098.evtx`).

Usage: scripts/attack-coverage.py VIGIL_BINARY ATTACK_DIR [-- extra vigil guard args]
Example: scripts/attack-coverage.py target/release/vigil ../shared/data/evtx-attack-samples
"""
import collections
import json
import os
import re
import statistics
import subprocess
import sys

LEVELS = ["informational", "low", "medium", "high", "critical"]
ALIASES = {"info": "informational"}
TACTICS = {"reconnaissance", "resource-development", "initial-access", "execution", "persistence",
           "privilege-escalation", "defense-evasion", "credential-access", "discovery",
           "lateral-movement", "collection", "command-and-control", "exfiltration", "impact"}


def expected(path, root):
    """(tactic, technique) the recording names, each None where it names none."""
    rel = os.path.relpath(path, root).split(os.sep)
    folder = rel[0].lower().replace(" ", "-") if len(rel) > 1 else ""
    tactic = folder if folder in TACTICS else None
    m = re.search(r"(?i)(?<![a-z0-9])t(1\d{3})(?:[._](\d{3}))?(?![0-9])", rel[-1])
    technique = f"t{m.group(1)}" if m else None
    return tactic, technique


# ATT&CK v18 split Defense Evasion into Stealth and Defense Impairment; SigmaHQ's rules tag
# the new tactics, recordings are filed under the old one.
SPLIT = {"stealth": "defense-evasion", "defense-impairment": "defense-evasion"}


def tag_tactics(tags):
    names = {t.lower()[len("attack."):].replace("_", "-") for t in tags}
    return names | {SPLIT[n] for n in names if n in SPLIT}


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
        tags = [t for t in a.get("tags", []) if t.lower().startswith("attack.")]
        per_file[os.path.normpath(a["source"])].append((level, tags))
    named = {f: expected(f, folder) for f in files}
    with_tactic = sum(1 for t, _ in named.values() if t)
    with_technique = sum(1 for _, t in named.values() if t)
    print(f"{len(files)} attack files; {with_tactic} under a tactic's folder, "
          f"{with_technique} naming a technique")
    for threshold in LEVELS:
        rank = LEVELS.index(threshold)
        counts, hit, technique, right_tactic, right_technique = [], 0, 0, 0, 0
        for f in files:
            alerts = [a for a in per_file.get(os.path.normpath(f), []) if LEVELS.index(a[0]) >= rank]
            counts.append(len(alerts))
            hit += bool(alerts)
            tags = [t for _, ts in alerts for t in ts]
            technique += any(t.lower().startswith("attack.t") for t in tags)
            want_tactic, want_technique = named[f]
            right_tactic += bool(want_tactic) and want_tactic in tag_tactics(tags)
            right_technique += bool(want_technique) and any(
                t.lower() == f"attack.{want_technique}" or t.lower().startswith(f"attack.{want_technique}.")
                for t in tags)
        print(
            f">= {threshold:13} median {statistics.median(counts):6.1f}  mean {statistics.mean(counts):7.1f}  "
            f"files alerted {hit:3}  with a technique {technique:3}  right tactic {right_tactic:3}  "
            f"right technique {right_technique:3}  alerts {sum(counts)}"
        )


if __name__ == "__main__":
    main()
