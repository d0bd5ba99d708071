"""Submatrix certificates of matricization ranks at scale, and how to choose the submatrix.

Parts (``--part``):

- ``witness``: the [K18] Thm 1 witness (m = r = 2, M = 4 templates, a 4^24-entry grid tensor)
  certified at rank 4096 for d = 24, and the [K19] Thm 5.2 witness at M = 4, d = 12 (rank
  4096, width bound 171): seconds and peak resident memory (``ru_maxrss`` of this process),
  next to the dense route's memory need (the reference: it cannot run).
- ``selection``: the certified rank from each row / column selection ("structured",
  "pivoted", "random") at a fixed submatrix size, over seeds, next to the dense rank measured
  in the same run (the reference: the certified rank can only be <= it).
- ``theorem``: the table of issue 22, ``shallow_width_lower_bound`` with ``method="auto"`` (the
  exact certificate) on a random TT-network (``LinearFeatures.identity(2)``, rank 2, templates
  ``[[1, 0], [0, 1], [1, 1], [1, -1]]``, ``random_state=4``) at d = 8, 12, 16, 24 (28 with
  ``--d28``), on a balanced HT-network (r = 2) at d <= 24, and on the relu_max TT witness of
  [K19] Thm 5.2; certified rank against the theorem's value, seconds, peak traced memory
  (tracemalloc) and, as the reference, the float submatrix certificate (``method="submatrix"``,
  2048 x 2048 at most) measured in the same run.

Run with ``OMP_NUM_THREADS=2 python benchmarks/bench_certificates.py`` (2 cores).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc

import numpy as np

import tensorexpr as te
from tensorexpr.experiments.fig3 import random_relu_rnn
from tensorexpr.experiments.theorem1 import certified_witness
from tensorexpr.experiments.theorem5_2 import certified_witness as certified_relu_witness
from tensorexpr.experiments.theorem5_2 import witness_rnn


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def witness() -> None:
    cpu = time.process_time()
    row = certified_witness(24, max_size=4096, method="submatrix")
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


ISSUE_TEMPLATES = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0]])


def _timed(fn):
    """(result, seconds, peak MiB traced by tracemalloc during the call)."""
    tracemalloc.start()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, seconds, peak


def _theorem_row(name, net, templates, theorem, float_reference, **options):
    found, seconds, peak = _timed(
        lambda: te.shallow_width_lower_bound(net, templates=templates, **options)
    )
    cert = found.certificate
    shape = f"{cert.shape[0]}x{cert.shape[1]}" if cert is not None else "-"
    line = (
        f"{name:24s} {theorem:>8d} {found.bound:>9d} {found.rank:>7d} {found.method:>9s} "
        f"{shape:>11s} {seconds:8.2f} s {peak:8.0f} MiB"
    )
    if float_reference:
        ref, ref_s, _ = _timed(
            lambda: te.shallow_width_lower_bound(net, templates=templates, method="submatrix")
        )
        line += f"   float submatrix: {ref.bound} in {ref_s:.2f} s ({ref_s / seconds:.1f}x)"
    print(line, flush=True)
    return found.bound == theorem


def theorem(d28: bool) -> None:
    print(f"load average at start: {os.getloadavg()}")
    header = (
        f"{'case':24s} {'theorem':>8s} {'certified':>9s} {'rank':>7s} {'method':>9s} "
        f"{'submatrix':>11s} {'time':>10s} {'peak':>12s}"
    )
    print(header)
    ok = []
    ds = (8, 12, 16, 24) + ((28,) if d28 else ())
    for d in ds:
        net = te.TTNetwork.random(d, te.LinearFeatures.identity(2), 2, random_state=4)
        options = {"max_size": 2 ** (d // 2), "memory_limit": 2**33} if d > 24 else {}
        # [K18] Thm 1: rank min(m, r)^(d/2) generically (F of full column rank)
        ok.append(
            _theorem_row(f"tt d={d}", net, ISSUE_TEMPLATES, 2 ** (d // 2), d <= 24, **options)
        )
    for d in (8, 12, 16, 24):  # HT: elimination (16384^2 at d = 28: beyond 10 minutes here)
        net = te.HTNetwork.random(d, te.LinearFeatures.identity(2), 2, random_state=4)
        options = {"max_size": 2 ** (d // 2), "memory_limit": 2**33} if d > 24 else {}
        ok.append(
            _theorem_row(f"ht d={d}", net, ISSUE_TEMPLATES, 2 ** (d // 2), d <= 16, **options)
        )
    for M, d in ((3, 4), (3, 6), (3, 8), (4, 8), (4, 10), (4, 12)):
        # [K19] Thm 5.2: width >= ceil(M^(d/2) / (M d / 2))
        bound = -(-(M ** (d // 2)) // (M * d // 2))
        ok.append(
            _theorem_row(f"relu_max M={M} d={d}", witness_rnn(M, d), np.eye(M), bound, d <= 8)
        )
    print(f"certified == theorem everywhere: {all(ok)}; peak RSS {_peak_mib():.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("witness", "selection", "theorem", "all"), default="all")
    parser.add_argument("--size", type=int, default=100, help="submatrix size for 'selection'")
    parser.add_argument("--d28", action="store_true", help="'theorem': also d = 28 (minutes)")
    args = parser.parse_args()
    if args.part in ("theorem", "all"):
        theorem(args.d28)
    if args.part in ("selection", "all"):
        selection(args.size)
    if args.part in ("witness", "all"):
        witness()


if __name__ == "__main__":
    main()
