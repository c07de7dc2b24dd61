#!/usr/bin/python3
"""PyTorch baseline for scripts/bench: the same MLP, loss, optimizer, schedule,
batch, epochs and thread count as examples/digits.mlp or examples/fashion.mlp.

PyTorch gets its best case: the data set is loaded once into tensors before
any timing; each epoch shuffles with torch.randperm and slices the preloaded
tensors (no DataLoader). Only the training steps are timed (perf_counter
around each epoch's step loop); validation runs between epochs, untimed.

Prints one line to stdout:
  torch: samples=<n> train_seconds=<s> samples_per_second=<x> first_step_ms=<t>
         startup_to_first_step_ms=<t> val.loss=<v> val.accuracy=<a>
first_step_ms is the duration of the first optimizer step alone;
startup_to_first_step_ms is from process start (BENCH_T0_NS, nanoseconds since
the epoch, set by the caller right before exec; else the kernel's process
start time) to the end of the first step: import torch, data loading, model
set-up and that step.

Thread settings: torch.set_num_threads(N), and OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, MKL_NUM_THREADS are set to N before torch is imported
(OpenBLAS, which PyTorch-Debian uses for matmul, follows only its own variable).
Always run with /usr/bin/python3 (Debian's python3-torch). Its libtorch takes
BLAS from libblas.so.3; with --no-install-recommends that may be the netlib
reference BLAS (about 5 GFLOP/s here), so scripts/bench installs
libopenblas0-openmp (which shares PyTorch's OpenMP thread pool; the pthread
build oversubscribes 2 cores) and puts its directory first in
LD_LIBRARY_PATH; the output's blas= field names the library actually loaded.
"""
import argparse
import gzip
import math
import os
import sys
import time

PRESETS = {
    # examples/digits.mlp: MLP(hidden = 256) (depth 2, p 0.1); adamw(lr = 1e-3,
    # weight_decay = 0.01); warmup(steps = 50) then cosine(eta_min = 1e-6);
    # split train 0.8 / val 0.1 / test 0.1; normalize = minmax.
    "digits": dict(inputs=64, hidden=256, depth=2, dropout=0.1, classes=10, lr=1e-3,
                   weight_decay=0.01, warmup=50, eta_min=1e-6, train_frac=0.8, val_frac=0.1,
                   batch=64, epochs=40),
    # examples/fashion.mlp: two hidden layers of 256, p 0.1; adamw(lr = 1e-3,
    # weight_decay = 0.01); warmup(steps = 200) then cosine(); split train 0.9 /
    # val 0.1 of the 60k training images; normalize = minmax.
    "fashion": dict(inputs=784, hidden=256, depth=2, dropout=0.1, classes=10, lr=1e-3,
                    weight_decay=0.01, warmup=200, eta_min=0.0, train_frac=0.9, val_frac=0.1,
                    batch=128, epochs=12),
}

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS_CSV = os.path.join(REPO, "examples", "data", "digits.csv.gz")
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", choices=sorted(PRESETS), help="which example to mirror")
    p.add_argument("--batch", type=int, help="batch size (default: the example's)")
    p.add_argument("--epochs", type=int, help="epochs (default: the example's)")
    p.add_argument("--threads", type=int, default=2, help="math threads (default 2)")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed (default 0)")
    p.add_argument("--no-val", action="store_true", help="skip the (untimed) validation pass")
    for k in ("hidden", "depth", "warmup"):
        p.add_argument("--" + k, type=int, help=f"override the example's {k}")
    for k in ("dropout", "lr", "weight_decay", "eta_min"):
        p.add_argument("--" + k.replace("_", "-"), dest=k, type=float, help=f"override the example's {k}")
    a = p.parse_args()
    cfg = dict(PRESETS[a.data])
    for k in ("batch", "epochs", "hidden", "depth", "warmup", "dropout", "lr", "weight_decay", "eta_min"):
        v = getattr(a, k)
        if v is not None:
            cfg[k] = v
    if cfg["batch"] < 1 or cfg["epochs"] < 1 or a.threads < 1:
        p.error("--batch, --epochs and --threads must be at least 1")
    return a, cfg


def loaded_blas():
    """The BLAS library this process mapped (PyTorch-Debian calls libblas.so.3)."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "blas" in os.path.basename(path) or "blis" in os.path.basename(path):
                libs.add(os.path.realpath(path))
    return ",".join(sorted(libs)) or "none"


def process_start_ns():
    t0 = os.environ.get("BENCH_T0_NS")
    if t0:
        return int(t0)
    # /proc/self/stat field 22: start time in clock ticks after boot.
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    start_after_boot = int(fields[19]) / os.sysconf("SC_CLK_TCK")
    boot_now = time.clock_gettime(time.CLOCK_BOOTTIME)
    return time.time_ns() - int((boot_now - start_after_boot) * 1e9)


def load_digits(np):
    with gzip.open(DIGITS_CSV, "rt") as f:
        raw = np.loadtxt(f, delimiter=",", dtype=np.float32)
    if raw.ndim != 2 or raw.shape[1] != 65:
        sys.exit(f"torch_mlp.py: {DIGITS_CSV}: expected 65 columns, got shape {raw.shape}")
    return raw[:, :64], raw[:, 64].astype(np.int64)


def read_idx(np, path, header):
    try:
        with gzip.open(path, "rb") as f:
            buf = f.read()
    except OSError as e:
        sys.exit(f"torch_mlp.py: cannot read {path}: {e} (apt-get install dataset-fashion-mnist)")
    return np.frombuffer(buf, dtype=np.uint8, offset=header)


def load_fashion(np):
    x = read_idx(np, os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz"), 16).reshape(-1, 784)
    y = read_idx(np, os.path.join(FASHION_DIR, "train-labels-idx1-ubyte.gz"), 8)
    return x.astype(np.float32), y.astype(np.int64)


def main():
    args, cfg = parse_args()
    n_threads = str(args.threads)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = n_threads  # before torch (and its BLAS) is loaded
    t_start_ns = process_start_ns()

    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    # ---- data, loaded once, before any timing
    x, y = load_digits(np) if args.data == "digits" else load_fashion(np)
    n = len(y)
    perm = np.random.default_rng(42 if args.data == "digits" else 7).permutation(n)
    n_train = int(math.floor(cfg["train_frac"] * n + 1e-9))
    n_val = int(math.floor(cfg["val_frac"] * n + 1e-9))
    tr, va = perm[:n_train], perm[n_train:n_train + n_val]
    lo, hi = x[tr].min(axis=0), x[tr].max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0).astype(np.float32)
    x = np.clip((x - lo) / span, 0.0, None).astype(np.float32)  # minmax on the train split
    x_train, y_train = torch.from_numpy(np.ascontiguousarray(x[tr])), torch.from_numpy(y[tr])
    x_val, y_val = torch.from_numpy(np.ascontiguousarray(x[va])), torch.from_numpy(y[va])

    # ---- model, loss, optimizer, schedule
    layers, width = [], cfg["inputs"]
    for _ in range(cfg["depth"]):
        layers += [nn.Linear(width, cfg["hidden"]), nn.ReLU(), nn.Dropout(cfg["dropout"])]
        width = cfg["hidden"]
    layers.append(nn.Linear(width, cfg["classes"]))
    model = nn.Sequential(*layers)
    loss_fn = nn.CrossEntropyLoss()  # mean reduction
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])

    batch, epochs = cfg["batch"], cfg["epochs"]
    steps_per_epoch = (n_train + batch - 1) // batch  # the last batch may be smaller
    total = steps_per_epoch * epochs
    warm, m = cfg["warmup"], cfg["eta_min"] / cfg["lr"]

    def factor(t):  # mlc's warmup(steps = W, start_factor = 0) then cosine(eta_min)
        if t < warm:
            return min(t, warm) / max(warm, 1)
        f = min((t - warm) / max(total - warm, 1), 1.0)
        return m + (1 - m) * 0.5 * (1 + math.cos(math.pi * f))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)

    # ---- training; only the step loop is timed
    train_s, first_step_ms, startup_ms, step = 0.0, None, None, 0
    val_loss = val_acc = float("nan")
    for _epoch in range(epochs):
        order = torch.randperm(n_train)
        xs, ys = x_train[order], y_train[order]  # one gather per epoch, then slices
        model.train()
        t0 = time.perf_counter()
        for i in range(0, n_train, batch):
            xb, yb = xs[i:i + batch], ys[i:i + batch]
            ts = time.perf_counter() if step == 0 else 0.0
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            if step == 0:
                first_step_ms = (time.perf_counter() - ts) * 1e3
                startup_ms = (time.time_ns() - t_start_ns) / 1e6
            step += 1
        train_s += time.perf_counter() - t0
        if not args.no_val and n_val:
            model.eval()
            with torch.no_grad():
                logits = model(x_val)
                val_loss = loss_fn(logits, y_val).item()
                val_acc = (logits.argmax(1) == y_val).float().mean().item()

    samples = n_train * epochs
    print(f"torch: samples={samples} train_seconds={train_s:.6f} samples_per_second={samples / train_s:.1f} "
          f"first_step_ms={first_step_ms:.3f} startup_to_first_step_ms={startup_ms:.1f} "
          f"val.loss={val_loss:.4f} val.accuracy={val_acc:.4f} threads={torch.get_num_threads()} steps={step} "
          f"blas={loaded_blas()}",
          flush=True)


if __name__ == "__main__":
    main()
