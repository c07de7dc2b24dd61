#!/usr/bin/env python3
"""Reads a .safetensors file the way a user's own tools would, so tests can
check that what mlc writes is plain safetensors.

  read_safetensors.py FILE [--require-torch]
  read_safetensors.py --meta FILE

prints one line per tensor in file order: `name dtype shape sum`, e.g.
`weight F32 [2, 3] 21`; float sums with 6 significant digits, integer sums
exactly. Tensors are decoded with NumPy; when PyTorch is importable each is
also read with torch.frombuffer and must hold the same values.
--require-torch fails when PyTorch is missing instead of skipping it.
--meta prints the `__metadata__` instead, one `key=value` a line in key
order, then `tensors: N`.
"""
import json
import struct
import sys

import numpy as np

try:
    import torch
except ImportError:
    torch = None

def header_of(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def print_meta(path):
    header, _ = header_of(path)
    for key, value in sorted(header.pop("__metadata__", {}).items()):
        print(f"{key}={value}")
    print(f"tensors: {len(header)}")


# BF16 has no NumPy dtype: it is read as uint16 and widened to float32.
NUMPY = {
    "BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "U16": np.uint16,
    "I32": np.int32, "U32": np.uint32, "I64": np.int64, "U64": np.uint64,
    "F16": np.float16, "BF16": np.uint16, "F32": np.float32, "F64": np.float64,
}
# PyTorch of this era has no uint16/32/64.
TORCH = {} if torch is None else {
    "BOOL": torch.bool, "U8": torch.uint8, "I8": torch.int8, "I16": torch.int16,
    "I32": torch.int32, "I64": torch.int64, "F16": torch.float16,
    "BF16": torch.bfloat16, "F32": torch.float32, "F64": torch.float64,
}


def read(path):
    header, data = header_of(path)
    header.pop("__metadata__", None)
    entries = sorted(header.items(), key=lambda e: e[1]["data_offsets"])
    return [(name, e["dtype"], e["shape"], data[e["data_offsets"][0]:e["data_offsets"][1]])
            for name, e in entries]


def as_numpy(dtype, shape, chunk):
    a = np.frombuffer(chunk, dtype=np.dtype(NUMPY[dtype]).newbyteorder("<")).reshape(shape)
    if dtype == "BF16":
        a = (a.astype(np.uint32) << 16).view(np.float32)
    return a


def as_torch(dtype, shape, chunk):
    if not chunk:  # frombuffer refuses an empty buffer
        return torch.zeros(shape, dtype=TORCH[dtype])
    return torch.frombuffer(bytearray(chunk), dtype=TORCH[dtype]).reshape(shape)


def main():
    args = sys.argv[1:]
    if args[0] == "--meta":
        print_meta(args[1])
        return
    if torch is None and "--require-torch" in args:
        sys.exit("read_safetensors.py: PyTorch is not installed")
    for name, dtype, shape, chunk in read(args[0]):
        if dtype not in NUMPY:
            sys.exit(f"read_safetensors.py: tensor {name}: dtype {dtype} is not supported")
        a = as_numpy(dtype, shape, chunk)
        if dtype in TORCH:
            t = as_torch(dtype, shape, chunk)
            if not np.array_equal(t.float().numpy() if dtype == "BF16" else t.numpy(), a, equal_nan=a.dtype.kind == "f"):
                sys.exit(f"read_safetensors.py: tensor {name}: PyTorch and NumPy read different values")
        if a.dtype.kind == "f":
            total = "{:.6g}".format(float(a.astype(np.float64).sum()))
        else:
            total = str(int(a.sum(dtype=np.uint64 if a.dtype.kind == "u" else np.int64)))
        print(f"{name} {dtype} {list(shape)} {total}")


if __name__ == "__main__":
    main()
