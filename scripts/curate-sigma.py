#!/usr/bin/env python3
"""Copy Vigil's default Sigma rule set out of a SigmaHQ checkout.

Criteria (documented in rules/sigma/README.md): the Windows and Linux rules of SigmaHQ's
core folder (`rules/windows`, `rules/linux`) and of its threat-hunting folder,
status `stable` or `test` (no experimental, deprecated or unsupported rules), every level.
Which levels are shown is `vigil guard --min-level`'s job, not the rule set's: on real
attacks a low or hunting rule is sometimes the only one that fires.

Paths below each folder are kept: `rules/windows/X` -> `OUT/windows/X`,
`rules-threat-hunting/windows/X` -> `OUT/threat-hunting/windows/X`, and the same for linux.

Usage: scripts/curate-sigma.py [SIGMA_CHECKOUT] [OUT_DIR]
(defaults: ../shared/data/sigma and rules/sigma)
"""
import collections
import os
import re
import shutil
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/sigma"
out = sys.argv[2] if len(sys.argv) > 2 else "rules/sigma"
keep_status = {"stable", "test"}
# (folder in the SigmaHQ checkout, folder in OUT)
sets = [
    (os.path.join("rules", "windows"), "windows"),
    (os.path.join("rules-threat-hunting", "windows"), os.path.join("threat-hunting", "windows")),
    (os.path.join("rules", "linux"), "linux"),
    (os.path.join("rules-threat-hunting", "linux"), os.path.join("threat-hunting", "linux")),
]

levels = collections.Counter()
for from_dir, to_dir in sets:
    base = os.path.join(src, from_dir)
    target = os.path.join(out, to_dir)
    if os.path.isdir(target):
        shutil.rmtree(target)
    kept = 0
    for dirpath, _, files in os.walk(base):
        for f in sorted(files):
            if not f.endswith(".yml"):
                continue
            path = os.path.join(dirpath, f)
            text = open(path, encoding="utf-8").read()
            status = re.search(r"^status:\s*(\S+)", text, re.M)
            if not status or status.group(1) not in keep_status:
                continue
            level = re.search(r"^level:\s*(\S+)", text, re.M)
            levels[level.group(1) if level else "none"] += 1
            dest = os.path.join(target, os.path.relpath(path, base))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copyfile(path, dest)
            kept += 1
    print(f"{kept} rules from {base} into {target}")
shutil.copyfile(os.path.join(src, "LICENSE"), os.path.join(out, "LICENSE"))
commit_file = os.path.join(src, "SOURCE_COMMIT")
commit = open(commit_file).read().strip() if os.path.exists(commit_file) else "unknown"
print(f"SigmaHQ {commit}; by level: {dict(sorted(levels.items()))}")
