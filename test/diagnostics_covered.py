#!/usr/bin/env python3
"""Fails unless every diagnostic code in DiagnosticKinds.def is checked by
at least one lit test (a CHECK line containing `[<code>]`)."""
import pathlib
import re
import sys

kinds, tests = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
codes = re.findall(r'^DIAG\(\w+,\s*"(\w+)"', kinds.read_text(), re.M)
checked = set()
for path in tests.rglob("*"):
    if path.is_file() and path.suffix in (".mlp", ".test"):
        for line in path.read_text(errors="replace").splitlines():
            if "CHECK" in line:
                checked.update(re.findall(r"\[([EW]\d{4})\]", line))
missing = [c for c in codes if c not in checked]
for c in missing:
    print(f"no lit test checks diagnostic {c}")
print(f"{len(codes) - len(missing)} of {len(codes)} diagnostic codes are tested")
sys.exit(1 if missing else 0)
