#!/usr/bin/env python3
"""Copy Vigil's default Sigma rule set out of a SigmaHQ checkout.

Criteria (documented in rules/sigma/README.md): the Windows rules of SigmaHQ's core folder
(`rules/windows`), status `stable` or `test` (no experimental, deprecated or unsupported
rules), level `medium`, `high` or `critical`. Paths below `rules/windows` are kept.

Usage: scripts/curate-sigma.py [SIGMA_CHECKOUT] [OUT_DIR]
(defaults: ../shared/data/sigma and rules/sigma)
"""
import os
import re
import shutil
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/sigma"
out = sys.argv[2] if len(sys.argv) > 2 else "rules/sigma"
base = os.path.join(src, "rules", "windows")
keep_status = {"stable", "test"}
keep_level = {"medium", "high", "critical"}

target = os.path.join(out, "windows")
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
        level = re.search(r"^level:\s*(\S+)", text, re.M)
        if not status or status.group(1) not in keep_status:
            continue
        if not level or level.group(1) not in keep_level:
            continue
        dest = os.path.join(target, os.path.relpath(path, base))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(path, dest)
        kept += 1
shutil.copyfile(os.path.join(src, "LICENSE"), os.path.join(out, "LICENSE"))
commit = open(os.path.join(src, "SOURCE_COMMIT")).read().strip() if os.path.exists(os.path.join(src, "SOURCE_COMMIT")) else "unknown"
print(f"{kept} rules from {base} (SigmaHQ {commit}) into {target}")
