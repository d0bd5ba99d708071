"""Submatrix certificates of matricization ranks at scale, and how to choose the submatrix.

Parts (``--part``):

- ``witness``: the [K18] Thm 1 witness (m = r = 2, M = 4 templates, a 4^24-entry grid tensor)
  certified at rank 4096 for d = 24, and the [K19] Thm 5.2 witness at M = 4, d = 12 (rank
  4096, width bound 171): seconds and peak resident memory (``ru_maxrss`` of this process),
  next to the dense route's memory need (the reference: it cannot run).
- ``selection``: the certified rank from each row / column selection ("structured",
  "pivoted", "random") at a fixed submatrix size, over seeds, next to the dense rank measured
  in the same run (the reference: the certified rank can only be <= it).

Run with ``OMP_NUM_THREADS=2 python benchmarks/bench_certificates.py`` (2 cores).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

import tensorexpr as te
from tensorexpr.experiments.fig3 import random_relu_rnn
from tensorexpr.experiments.theorem1 import certified_witness
from tensorexpr.experiments.theorem5_2 import certified_witness as certified_relu_witness


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def witness() -> None:
    cpu = time.process_time()
    row = certified_witness(24, max_size=4096)
    cpu = time.process_time() - cpu
    dense_gib = 3 * 8 * 4**24 / 2**30
    print(
        f"theorem1 witness d=24 (4^24 grid): certified rank {row['rank_witness']} "
        f"(bound {row['bound']}), {row['submatrix']} submatrix, smallest counted "
        f"{row['sigma_min_counted']:.3g} > margin {row['margin']:.2g}, {row['seconds']:.1f} s "
        f"wall, {cpu:.1f} s CPU (all threads), peak RSS {_peak_mib():.0f} MiB; the dense route "
        f"needs {dense_gib:.0f} GiB"
    )
    row = certified_relu_witness(4, 12)
    dense_gib = 3 * 8 * 4**12 / 2**30
    print(
        f"theorem5_2 witness M=4 d=12: certified rank {row['rank']} (M^(d/2) = "
        f"{row['expected_rank']}), width bound {row['bound']} (expected "
        f"{row['expected_bound']}), {row['seconds']:.1f} s, peak RSS {_peak_mib():.0f} MiB "
        f"(dense route: {dense_gib:.1f} GiB)"
    )


def _cases():
    """(name, source, templates, dense rank) with a dense rank computable in this run."""
    for seed in range(5):
        rng = np.random.default_rng(seed)
        fmap = te.LinearFeatures(3, 3, random_state=rng)
        templates = rng.standard_normal((5, 3))
        net = te.TTNetwork.random(8, fmap, rank=3, random_state=rng)
        yield "tt d=8 m=3 r=3 M=5", net, templates
        relu = random_relu_rnn(6, 10, 4, "gaussian", True, rng)
        yield "relu_max rnn d=6 M=10 R=4", relu, np.eye(10)


def selection(size: int) -> None:
    results: dict = {}
    for name, net, templates in _cases():
        start = time.perf_counter()
        dense = te.matricization_rank(net, templates=templates, method="dense").rank
        t_dense = time.perf_counter() - start
        row = results.setdefault(name, {"dense": [], "t_dense": []})
        row["dense"].append(dense)
        row["t_dense"].append(t_dense)
        for sel in ("structured", "pivoted", "random"):
            start = time.perf_counter()
            found = te.matricization_rank(
                net,
                templates=templates,
                method="submatrix",
                selection=sel,
                max_size=size,
                random_state=0,
            )
            row.setdefault(sel, []).append(found.rank)
            row.setdefault("t_" + sel, []).append(time.perf_counter() - start)
    print(f"certified rank with a submatrix of at most {size} x {size} (mean / min over 5 seeds)")
    print(f"{'case':28s} {'dense':>12s} {'structured':>14s} {'pivoted':>14s} {'random':>14s}")
    for name, row in results.items():
        cells = [f"{np.mean(row['dense']):6.1f}/{min(row['dense']):4d}"]
        for sel in ("structured", "pivoted", "random"):
            cells.append(
                f"{np.mean(row[sel]):6.1f}/{min(row[sel]):4d} {np.mean(row['t_' + sel]):.2f}s"
            )
        print(f"{name:28s} " + " ".join(f"{c:>14s}" for c in cells))
        print(f"{'':28s} dense time {np.mean(row['t_dense']):.2f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("witness", "selection", "all"), default="all")
    parser.add_argument("--size", type=int, default=100, help="submatrix size for 'selection'")
    args = parser.parse_args()
    if args.part in ("selection", "all"):
        selection(args.size)
    if args.part in ("witness", "all"):
        witness()


if __name__ == "__main__":
    main()
