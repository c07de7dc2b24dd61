#!/usr/bin/env python3
"""Damages the newest checkpoint of a run directory, as a crash or a bad disk
would.

  corrupt.py flip|truncate=N DIR [STEM]

Finds the checkpoint that --resume would load first in DIR (the most steps,
then the newest .json, then the greatest name, as CheckpointStore::list
orders them), or STEM when given, and flips the lowest bit of the last byte
of its .safetensors (`flip`) or cuts that to N bytes (`truncate=N`). Prints
the stem it damaged.
"""

import glob
import os
import re
import sys


def main():
    how, directory = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3:
        stem = sys.argv[3]
    else:
        stems = [os.path.basename(p)[:-len(".json")]
                 for p in glob.glob(os.path.join(directory, "epoch=*-step=*.json"))]
        if not stems:
            raise SystemExit(f"no checkpoint in {directory}")
        stem = max(stems, key=lambda s: (int(re.search(r"-step=(\d+)$", s).group(1)),
                                         os.stat(os.path.join(directory, s + ".json")).st_mtime_ns, s))
    path = os.path.join(directory, stem + ".safetensors")
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if how == "flip":
        data[-1] ^= 1
    elif how.startswith("truncate="):
        data = data[:int(how[len("truncate="):])]
    else:
        raise SystemExit(f"unknown damage {how}")
    with open(path, "wb") as f:
        f.write(data)
    print(stem)


if __name__ == "__main__":
    main()
