#!/usr/bin/env python3
"""Prints a .safetensors file's `__metadata__`, one `key=value` a line in
key order, then `tensors: N`, reading the header with the standard library.

  safetensors_meta.py FILE
"""

import json
import struct
import sys


def main():
    with open(sys.argv[1], "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    for key, value in sorted(header.pop("__metadata__", {}).items()):
        print(f"{key}={value}")
    print(f"tensors: {len(header)}")


if __name__ == "__main__":
    main()
