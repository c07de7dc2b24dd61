"""Optuna's TPESampler (defaults, seed=seed) on the functions of
bench/tpe_bench.cpp, with the same seeds and budget, for scripts/bench tpe.

Usage: optuna_tpe.py [--seeds N] [--trials N]
Prints `<function> <seed> <regret>` per function and seed (see tpe_bench.cpp).
"""
import argparse
import math
import random

import optuna


def branin(x):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    u = x[1] - b * x[0] ** 2 + c * x[0] - 6
    return u * u + 10 * (1 - t) * math.cos(x[0]) + 10


ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [[10, 3, 17, 3.5, 1.7, 8],
     [0.05, 10, 17, 0.1, 8, 14],
     [3, 3.5, 1.7, 10, 17, 8],
     [17, 8, 0.05, 10, 0.1, 14]]
P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
     [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
     [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
     [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]


def hartmann6(x):
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6)))
                for i in range(4))


SHIFT = [1.5, -2.0, 0.5, 3.0]


def sphere(x):
    return sum((x[i] - SHIFT[i]) ** 2 for i in range(4))


# name, bounds, function, known minimum, observation noise (standard deviation)
PROBLEMS = [
    ("branin", [(-5, 10), (0, 15)], branin, 0.397887, 0.0),
    ("hartmann6", [(0.0, 1.0)] * 6, hartmann6, -3.32237, 0.0),
    ("noisy_sphere4", [(-5.0, 5.0)] * 4, sphere, 0.0, 1.0),
]


def regret(problem, seed, trials):
    _, bounds, f, minimum, noise = problem
    rng = random.Random(seed)
    truth = {}

    def objective(trial):
        x = [trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)]
        truth[trial.number] = f(x)
        return truth[trial.number] + (noise * rng.gauss(0, 1) if noise > 0 else 0.0)

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    return truth[study.best_trial.number] - minimum


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=25)
    parser.add_argument("--trials", type=int, default=60)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    for problem in PROBLEMS:
        for seed in range(args.seeds):
            print(f"{problem[0]} {seed} {regret(problem, seed, args.trials):.6g}", flush=True)


if __name__ == "__main__":
    main()
