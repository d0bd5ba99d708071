"""Accuracy sweep (not a timing): refit random deep relu_max networks with fit_generalized.

Targets are grid tensors (one-hot templates, M = 4) of random TT (generalized RNN, C_t of size
M x M) and HT relu_max networks; each is refitted at the same rank from a random start, 10 seeds
per setting. Prints one JSON line per fit and a summary (median, worst) per setting and strategy.
docs/universality.md reports the numbers.

    OMP_NUM_THREADS=1 python benchmarks/sweep_fit_generalized.py --strategy adam > out.jsonl
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import tensorexpr as te

SETTINGS = [("tt", 2, 4), ("tt", 4, 6), ("ht", 2, 4), ("ht", 4, 6)]
M = 4


def target(kind: str, rank: int, d: int, seed: int) -> np.ndarray:
    fmap = te.LinearFeatures.identity(M)
    if kind == "tt":
        net = te.TTNetwork.random(
            d,
            fmap,
            rank,
            xi="relu_max",
            hidden_size=M,
            random_state=np.random.default_rng([seed, rank, d]),
        )
    else:
        net = te.HTNetwork.random(
            d, fmap, rank, xi="relu_max", random_state=np.random.default_rng([seed, rank, d])
        )
    return np.asarray(net.grid_tensor(np.eye(M)), dtype=np.float64)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--strategy", default="adam")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--max-iter", type=int, default=2000)
    parser.add_argument("--settings", default=None, help="e.g. tt:2:4,ht:4:6")
    args = parser.parse_args()
    settings = SETTINGS
    if args.settings:
        settings = [
            (k, int(r), int(d)) for k, r, d in (s.split(":") for s in args.settings.split(","))
        ]
    summary = {}
    for kind, rank, d in settings:
        errors = []
        for seed in range(args.seeds):
            T = target(kind, rank, d, seed)
            start = time.perf_counter()
            if args.strategy == "adam":
                fit = te.fit_generalized(
                    T, kind, rank=rank, xi="relu_max", max_iter=args.max_iter, random_state=seed
                )
            else:
                fit = te.refit_generalized(
                    T, kind, rank=rank, xi="relu_max", max_iter=args.max_iter, random_state=seed
                )
            errors.append(fit.relative_error)
            row = {
                "strategy": args.strategy,
                "kind": kind,
                "rank": rank,
                "d": d,
                "seed": seed,
                "relative_error": fit.relative_error,
                "seconds": round(time.perf_counter() - start, 2),
            }
            print(json.dumps(row), flush=True)
        key = f"{kind} r={rank} d={d}"
        summary[key] = {
            "median": float(np.median(errors)),
            "worst": float(np.max(errors)),
            "n_below_1e-6": int(np.sum(np.array(errors) <= 1e-6)),
        }
        print(json.dumps({"summary": key, **summary[key]}), flush=True)


if __name__ == "__main__":
    main()
