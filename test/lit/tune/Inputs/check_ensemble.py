"""Recomputes a study's ensemble from its members' raw outputs, independently
of the runtime: the mean of the members' softmax probabilities, its argmax
and its negative log-likelihood against the labels of a CSV data set.

    check_ensemble.py ENSEMBLE_DIR DATA_CSV CLASSES

Prints one line per check; exits 1 on a mismatch.
"""
import json
import math
import struct
import sys

ens, data, classes = sys.argv[1], sys.argv[2], int(sys.argv[3])
metrics = json.load(open(f"{ens}/metrics.json"))
labels = [int(float(line.strip().split(",")[-1])) for line in open(data).read().splitlines()[1:] if line.strip()]
predictions = [line.split(",") for line in open(f"{ens}/predictions.csv").read().splitlines()[1:]]
rows = [int(r) for r, _ in predictions]

members = []
for n in metrics["members"]:
    raw = open(f"{ens}/trial-{n:04d}.f32", "rb").read()
    values = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert len(values) == len(rows) * classes, (len(values), len(rows))
    members.append(values)

loss, correct, agree = 0.0, 0, 0
for i, row in enumerate(rows):
    mean = [0.0] * classes
    for values in members:
        logits = values[i * classes:(i + 1) * classes]
        top = max(logits)
        exps = [math.exp(x - top) for x in logits]
        for c in range(classes):
            mean[c] += exps[c] / sum(exps) / len(members)
    guess = max(range(classes), key=lambda c: mean[c])
    loss -= math.log(mean[labels[row]])
    correct += guess == labels[row]
    agree += guess == int(predictions[i][1])
loss /= len(rows)

ok = True
def check(name, good, detail):
    global ok
    ok &= good
    print(f"{name}: {'ok' if good else 'MISMATCH'} ({detail})")

print(f"members: {len(members)}, rows: {len(rows)}")
check("predictions", agree == len(rows), f"{agree} of {len(rows)} agree")
check("test.loss", abs(loss - metrics["test.loss"]) < 1e-5 * max(1.0, loss), f"{loss:.6f} vs {metrics['test.loss']:.6f}")
check("test.accuracy", correct / len(rows) == metrics["test.accuracy"], f"{correct / len(rows):.6f}")
sys.exit(0 if ok else 1)
