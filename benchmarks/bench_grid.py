"""Grid tensors: the structured / recursive routes against the references (issue 2).

Prints, measured in one run (best of N, numpy backend, float64):
- TT grid tensor (d = 7, M = 10) vs evaluating the network on all M^d tuples in
  batches (target >= 50x faster) and vs a plain copy of an array of the same size
  (target <= 3x);
- generalized ReLU RNN grid (relu_max, d = 6, M = 10, R = 8) vs batched evaluation
  (target >= 10x faster).

Run: python benchmarks/bench_grid.py
"""

from __future__ import annotations

import time

import numpy as np

import tensorexpr as te


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def report(name: str, ratio: float, target: str, ok: bool) -> bool:
    print(f"  {name:48s} {ratio:9.2f}x   target {target:8s} {'PASS' if ok else 'FAIL'}")
    return ok


def main() -> int:
    te.set_backend("numpy")
    rng = np.random.default_rng(0)
    ok = True

    print("TT-network grid tensor, d=7, M=10, m=8, rank 8 (10^7 entries)")
    fmap = te.ReLUFeatures(4, 8, random_state=0)
    net = te.TTNetwork.random(7, fmap, rank=8, random_state=0)
    templates = rng.standard_normal((10, 4))
    grid = net.grid_tensor(templates)
    t_grid = best_of(lambda: net.grid_tensor(templates), 5)
    t_copy = best_of(lambda: np.copy(grid), 5)
    t_eval = best_of(lambda: te.grid_tensor(net, templates, d=7, batch_size=2**15), 1)
    slow = te.grid_tensor(net, templates, d=7, batch_size=2**15)
    err = float(np.max(np.abs(slow - grid)) / np.max(np.abs(grid)))
    print(
        f"  grid_tensor {t_grid:.3f} s | copy {t_copy:.3f} s | batched evaluation {t_eval:.2f} s"
        f" | max rel. difference {err:.1e}"
    )
    ok &= report(
        "batched evaluation / grid_tensor", t_eval / t_grid, ">= 50", t_eval / t_grid >= 50
    )
    ok &= report("grid_tensor / copy", t_grid / t_copy, "<= 3", t_grid / t_copy <= 3)

    print("Generalized ReLU RNN grid tensor, xi=relu_max, d=6, M=10, m=10, R=8 (10^6 entries)")
    fmap = te.ReLUFeatures(4, 10, random_state=1)
    rnn = te.TTNetwork.random(6, fmap, rank=8, xi="relu_max", random_state=1)
    templates = rng.standard_normal((10, 4))
    grid = rnn.grid_tensor(templates)
    t_grid = best_of(lambda: rnn.grid_tensor(templates), 5)
    t_eval = best_of(lambda: te.grid_tensor(rnn, templates, d=6, batch_size=2**15), 1)
    slow = te.grid_tensor(rnn, templates, d=6, batch_size=2**15)
    err = float(np.max(np.abs(slow - grid)) / np.max(np.abs(grid)))
    print(
        f"  grid_tensor {t_grid:.3f} s | batched evaluation {t_eval:.2f} s"
        f" | max rel. difference {err:.1e}"
    )
    ok &= report(
        "batched evaluation / grid_tensor", t_eval / t_grid, ">= 10", t_eval / t_grid >= 10
    )
    print("ALL PASS" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
