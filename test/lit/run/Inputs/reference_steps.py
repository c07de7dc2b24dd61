#!/usr/bin/env python3
"""Reference for run/optimizer-numerics.mlp: full-batch training of
`linear(x, 3)` with cross-entropy on a CSV, in plain Python (float64).

  reference_steps.py init STATE VARIANT  writes the initial state (raw f32)
  reference_steps.py check CSV STATE OUT VARIANT STEPS
      recomputes STEPS full-batch updates from the initial state and
      compares them with the state the executable saved (STATE) and the
      train losses it printed on standard error (OUT).

VARIANT: sgd (momentum 0.9, weight decay 0.01), adam (L2 decay 0.01),
adamw (decoupled decay 0.01), rmsprop (alpha 0.99, momentum 0.5),
sgd-acc (sgd, with the state of gradient accumulation), sgd-clip (plain sgd, global-norm clipping at 0.05), sgd-sched (plain sgd,
warmup(steps = 1, start_factor = 0.5) then cosine(eta_min = 0.01)); lr 0.1.

State layout (from --emit=plan): weight [4, 3] at byte 0, bias [3] at 64,
then the optimizer's buffers, each at a 64-byte boundary.
"""
import math
import re
import struct
import sys

W0 = [[0.1 * (i - j) + 0.05 for j in range(3)] for i in range(4)]
B0 = [0.1, -0.2, 0.05]
LR, MOMENTUM, WD, BETA1, BETA2, EPS = 0.1, 0.9, 0.01, 0.9, 0.999, 1e-8
ALPHA, RMS_MOMENTUM, CLIP = 0.99, 0.5, 0.05


def lr_factor(variant, t, total):
    if variant != "sgd-sched":
        return 1.0
    if t < 1:  # warmup(steps = 1, start_factor = 0.5)
        return 0.5 + 0.5 * min(t / 1, 1)
    m = 0.01 / LR  # cosine(eta_min = 0.01) over the remaining steps
    frac = min((t - 1) / max(total - 1, 1), 1)
    return m + (1 - m) * (1 + math.cos(math.pi * frac)) / 2


def layout(optimizer):
    # name -> (offset in floats, count)
    offsets = {"w": (0, 12), "b": (16, 3)}
    if optimizer == "sgd-acc":  # gradient accumulators (zero after a step), then momentum
        offsets.update({"w.acc": (32, 12), "b.acc": (48, 3), "w.1": (64, 12), "b.1": (80, 3)})
        size = 384
    elif optimizer.startswith("sgd"):
        offsets.update({"w.1": (32, 12), "b.1": (48, 3)})
        size = 256
    else:  # adam, adamw: exp_avg, exp_avg_sq; rmsprop: square_avg, momentum
        offsets.update({"w.1": (32, 12), "w.2": (48, 12), "b.1": (64, 3), "b.2": (80, 3)})
        size = 384
    return offsets, size


def write_init(path, optimizer):
    offsets, size = layout(optimizer)
    floats = [0.0] * (size // 4)
    start = offsets["w"][0]
    for k, v in enumerate([x for row in W0 for x in row]):
        floats[start + k] = v
    for k, v in enumerate(B0):
        floats[offsets["b"][0] + k] = v
    with open(path, "wb") as f:
        f.write(struct.pack("<%df" % len(floats), *floats))


def loss_and_grads(X, Y, W, b):
    n = len(X)
    gW = [[0.0] * 3 for _ in range(4)]
    gb = [0.0] * 3
    total = 0.0
    for x, y in zip(X, Y):
        z = [sum(x[i] * W[i][j] for i in range(4)) + b[j] for j in range(3)]
        m = max(z)
        e = [math.exp(v - m) for v in z]
        s = sum(e)
        total += -(z[y] - m - math.log(s))
        for j in range(3):
            d = (e[j] / s - (1.0 if j == y else 0.0)) / n
            gb[j] += d
            for i in range(4):
                gW[i][j] += x[i] * d
    return total / n, gW, gb


def train(X, Y, optimizer, steps):
    W = [row[:] for row in W0]
    b = B0[:]
    flat = lambda M: [v for row in M for v in row]
    params = {"w": flat(W), "b": b}
    buffers = {k: [0.0] * len(v) for k, v in params.items() for k in (k + ".1", k + ".2", k + ".acc")}
    losses = []
    for t in range(steps):
        Wm = [params["w"][i * 3:(i + 1) * 3] for i in range(4)]
        loss, gW, gb = loss_and_grads(X, Y, Wm, params["b"])
        losses.append(loss)
        grads = {"w": flat(gW), "b": gb}
        if optimizer == "sgd-clip":
            norm = math.sqrt(sum(v * v for g in grads.values() for v in g))
            scale = min(1.0, CLIP / (norm + 1e-6))
            grads = {k: [v * scale for v in g] for k, g in grads.items()}
        lr = LR * lr_factor(optimizer, t, steps)
        for name, p in params.items():
            g = grads[name]
            m1, m2 = buffers[name + ".1"], buffers[name + ".2"]
            for k in range(len(p)):
                if optimizer in ("sgd", "sgd-acc"):
                    gk = g[k] + WD * p[k]
                    m1[k] = MOMENTUM * m1[k] + gk
                    p[k] -= LR * m1[k]
                elif optimizer.startswith("sgd"):  # plain: momentum 0, no decay
                    m1[k] = g[k]
                    p[k] -= lr * m1[k]
                elif optimizer == "rmsprop":
                    m1[k] = ALPHA * m1[k] + (1 - ALPHA) * g[k] * g[k]
                    m2[k] = RMS_MOMENTUM * m2[k] + g[k] / (math.sqrt(m1[k]) + EPS)
                    p[k] -= LR * m2[k]
                else:
                    gk = g[k] + (WD * p[k] if optimizer == "adam" else 0.0)
                    if optimizer == "adamw":
                        p[k] *= 1 - LR * WD
                    m1[k] = BETA1 * m1[k] + (1 - BETA1) * gk
                    m2[k] = BETA2 * m2[k] + (1 - BETA2) * gk * gk
                    c1, c2 = 1 - BETA1 ** (t + 1), 1 - BETA2 ** (t + 1)
                    p[k] -= LR / c1 * m1[k] / (math.sqrt(m2[k]) / math.sqrt(c2) + EPS)
    return params, buffers, losses


def check(csv, state, out, optimizer, steps):
    X, Y = [], []
    for line in open(csv):
        cells = line.strip().split(",")
        if len(cells) == 5:
            X.append([float(c) for c in cells[:4]])
            Y.append(int(cells[4]))
    params, buffers, losses = train(X, Y, optimizer, steps)
    offsets, size = layout(optimizer)
    data = open(state, "rb").read()
    if len(data) != size:
        sys.exit("state holds %d bytes, expected %d" % (len(data), size))
    got = struct.unpack("<%df" % (size // 4), data)
    expected = {"w": params["w"], "b": params["b"]}
    for name in offsets:
        if name not in expected:
            expected[name] = buffers[name]
    bad = 0
    for name, values in expected.items():
        start, count = offsets[name]
        for k in range(count):
            g, e = got[start + k], values[k]
            if abs(g - e) > 1e-5 + 1e-4 * abs(e):
                print("%s[%d]: got %.8g, expected %.8g" % (name, k, g, e))
                bad += 1
    printed = [float(v) for v in re.findall(r"^epoch \d+/\d+ train\.loss=([0-9.]+)", open(out).read(), re.M)]
    if len(printed) != steps:
        print("expected %d epoch lines, found %d" % (steps, len(printed)))
        bad += 1
    for k, (g, e) in enumerate(zip(printed, losses)):
        if abs(g - e) > 1e-4:  # printed with 4 decimals
            print("epoch %d train.loss: got %.4f, expected %.6f" % (k + 1, g, e))
            bad += 1
    print("ok" if bad == 0 else "%d mismatches" % bad)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    if sys.argv[1] == "init":
        write_init(sys.argv[2], sys.argv[3])
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
