"""Accuracy sweep (not a timing): refit random deep relu_max networks with fit_generalized.

Targets are grid tensors (one-hot templates, M = 4) of random TT (generalized RNN, C_t of size
M x M) and HT relu_max networks; each is refitted at the same rank from a random start, 10 seeds
per setting. Prints one JSON line per fit and a summary (median, worst) per setting and strategy.
docs/expressivity.md reports the numbers.

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


def target(kind: str, rank: int, d: int, seed: int):
    """A random relu_max network (the teacher) and its grid tensor on one-hot templates."""
    fmap = te.LinearFeatures.identity(M)
    rng = np.random.default_rng([seed, rank, d])
    while True:  # a teacher whose ReLUs are all dead has the zero grid tensor: draw again
        if kind == "tt":
            net = te.TTNetwork.random(d, fmap, rank, xi="relu_max", hidden_size=M, random_state=rng)
        else:
            net = te.HTNetwork.random(d, fmap, rank, xi="relu_max", random_state=rng)
        T = np.asarray(net.grid_tensor(np.eye(M)), dtype=np.float64)
        if np.linalg.norm(T) > 0:
            return net, T


def perturbed(net, noise: float, seed: int):
    """The teacher with every parameter multiplied by (1 + noise N(0, 1))."""
    rng = np.random.default_rng(seed)

    def jitter(arrays):
        return [a * (1.0 + noise * rng.standard_normal(a.shape)) for a in arrays]

    if net.kind == "tt":
        return te.TTNetwork(
            jitter(net.cores), net.feature_map, xi="relu_max", matrices=jitter(net.matrices)
        )
    return te.HTNetwork(jitter(net.factors), net.feature_map, tree=net.tree, xi="relu_max")


def refit(strategy: str, teacher, T, kind: str, rank: int, seed: int, max_iter: int):
    """One refit of T by a named strategy (docs/expressivity.md, fit_generalized on deep
    targets)."""
    opts = {"xi": "relu_max", "random_state": seed}
    if strategy.endswith("+lm"):  # then 30 Levenberg-Marquardt iterations per restart
        strategy, opts["polish"] = strategy[: -len("+lm")], 30
    if strategy == "adam":  # the default: one random start
        return te.fit_generalized(T, kind, rank=rank, max_iter=max_iter, **opts)
    if strategy.startswith("restarts"):  # best of k random starts ("restarts10")
        k = int(strategy[len("restarts") :])
        return te.fit_generalized(T, kind, rank=rank, max_iter=max_iter, n_restarts=k, **opts)
    if strategy == "long":  # 10x the steps from one random start
        return te.fit_generalized(T, kind, rank=rank, max_iter=10 * max_iter, **opts)
    if strategy == "overparam":  # twice the rank from a random start
        return te.fit_generalized(T, kind, rank=2 * rank, max_iter=max_iter, **opts)
    if strategy.startswith("near"):  # the teacher with relative noise 1e-2 ("near2") etc.
        noise = 10.0 ** -float(strategy[4:])
        start = perturbed(teacher, noise, seed)
        return te.fit_generalized(
            T, kind, rank=rank, max_iter=max_iter, init=start, learning_rate=noise / 10, **opts
        )
    raise ValueError(f"unknown strategy {strategy!r}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--strategy",
        default="adam",
        help="adam | restarts<k> | long | overparam | near<k> (teacher + 10^-k noise), "
        "each optionally +lm (polish=30: Levenberg-Marquardt after Adam)",
    )
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
            teacher, T = target(kind, rank, d, seed)
            start = time.perf_counter()
            fit = refit(args.strategy, teacher, T, kind, rank, seed, args.max_iter)
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
