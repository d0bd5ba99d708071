"""Every decomposition and grid-tensor routine on every TensorLy backend, against numpy.

For each function and backend (numpy, pytorch, jax, tensorflow) it prints the best time of
``--repeat`` calls made after a first (warm-up, compiling) call, and the ratio to numpy measured
in the same run. Target (issue 13): every ratio <= 3 on the large inputs (>= 10^6 entries: the
dense input's or output's entries, or the stored entries of a factorized input plus output);
the small inputs are reported without a target (per-call overhead of the backend dominates).

Times are the process's CPU time by default (``--clock wall`` for elapsed time), with one BLAS /
Eigen / XLA thread per library (``--threads``): on a shared machine the elapsed time of a
millisecond kernel varies several-fold with the other jobs, its CPU time much less.

Run: ``python benchmarks/bench_backends.py [--size large|small|both] [--repeat 3]
[--backends numpy,pytorch,jax,tensorflow] [--only NAME,...] [--threads=N]`` (one BLAS thread
by default: see below).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

if __name__ == "__main__":
    # One thread per library unless --threads says otherwise: on a shared machine the timings
    # of multi-threaded BLAS / Eigen are dominated by contention (measured: a 1000 x 100 QR took
    # 0.3-1.7 s instead of 0.015 s at load average 10). Must be set before numpy is imported.
    _argv = " ".join(sys.argv[1:]).replace("--threads ", "--threads=").split()
    _threads = next((a.split("=", 1)[1] for a in _argv if a.startswith("--threads=")), "1")
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, _threads)
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", _threads)
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    if _threads == "1":
        os.environ.setdefault(
            "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        )

import numpy as np
import tensorly as tl
from tensorly.cp_tensor import cp_to_tensor
from tensorly.tt_tensor import TTTensor, tt_to_tensor

import tensorexpr as te

TARGET = 3.0


def tt_tensor(rng, d, n, r, noise=1e-6):
    ranks = [1] + [r] * (d - 1) + [1]
    cores = [rng.standard_normal((ranks[k], n, ranks[k + 1])) for k in range(d)]
    tensor = tt_to_tensor(cores)
    tensor /= np.linalg.norm(tensor)
    return tensor + noise * rng.standard_normal(tensor.shape) / np.sqrt(tensor.size)


def random_tt(rng, d, n, r):
    ranks = [1] + [r] * (d - 1) + [1]
    return [rng.standard_normal((ranks[k], n, ranks[k + 1])) / np.sqrt(n * r) for k in range(d)]


def cp_tensor(rng, n, rank, order=3, noise=1e-3):
    factors = [rng.standard_normal((n, rank)) for _ in range(order)]
    tensor = cp_to_tensor((np.ones(rank), factors))
    tensor /= np.linalg.norm(tensor)
    return tensor + noise * rng.standard_normal(tensor.shape) / np.sqrt(tensor.size)


def workloads(size: str):
    """(name, entries, make) with ``make()`` -> a zero-argument call on the current backend."""
    rng = np.random.default_rng(0)
    large = size == "large"
    d, n, r = (6, 10, 5) if large else (4, 6, 3)
    dense_tt = tt_tensor(rng, d, n, r)
    rt_d, rt_n, rt_r = (10, 10, 100) if large else (6, 4, 6)
    round_cores = random_tt(rng, rt_d, rt_n, rt_r)
    ht_dense = tt_tensor(rng, 8, 6, 4) if large else tt_tensor(rng, 4, 4, 3)
    ht_big = te.ht_svd(tt_tensor(rng, 8, 8, 6) if large else ht_dense, tol=1e-4)
    # HT with ranks r everywhere: transfer tensors r^3 (large: 7 * 50^3 ~ 10^6 entries)
    tree = te.DimensionTree.balanced(8 if large else 4)
    hr, hn = (50, 60) if large else (4, 5)
    ht_factors = []
    for node in range(tree.n_nodes):
        ch = tree.children(node)
        out = 1 if node == tree.root else hr
        shape = (hn, hr) if ch is None else (hr, hr, out)
        ht_factors.append(rng.standard_normal(shape) / np.sqrt(shape[0]))
    conv_cores = random_tt(rng, 8, 10, 10) if large else random_tt(rng, 4, 3, 2)
    # conversions: the stored entries of input and output (the output dominates)
    conv_output_entries = sum(c.size for c in conv_cores) + te.tt_to_ht(conv_cores).n_params
    cp_n, cp_r = (100, 4) if large else (12, 3)
    cp_dense = cp_tensor(rng, cp_n, cp_r)
    cpr_dense = cp_tensor(rng, cp_n, 3, noise=1e-4)
    g_d, g_m = (6, 10) if large else (3, 6)
    fmap = te.ReLUFeatures(4, 8, random_state=0)
    net = te.TTNetwork.random(g_d, fmap, rank=8, random_state=0)
    net7 = te.TTNetwork.random(7, fmap, rank=8, random_state=0)
    rnn = te.TTNetwork.random(g_d, fmap, rank=8, xi="relu_max", random_state=1)
    htnet = te.HTNetwork.random(8 if large else 4, fmap, rank=6, random_state=2)
    templates = rng.standard_normal((g_m, 4))
    ht_m = 6 if large else 4

    def on_backend(arrays):
        return [tl.tensor(np.ascontiguousarray(a)) for a in arrays]

    return [
        (
            "tt_svd(tol=1e-4)",
            dense_tt.size,
            lambda: _bind(te.tt_svd, tl.tensor(dense_tt), tol=1e-4),
        ),
        (
            "tt_round(tol=1e-2)",
            sum(c.size for c in round_cores),
            lambda: _bind(te.tt_round, TTTensor(on_backend(round_cores)), tol=1e-2),
        ),
        (
            "ht_svd(tol=1e-4)",
            ht_dense.size,
            lambda: _bind(te.ht_svd, tl.tensor(ht_dense), tol=1e-4),
        ),
        (
            "ht_round(tol=1e-2)",
            sum(f.size for f in ht_factors),
            lambda: _bind(te.ht_round, te.HTTensor(on_backend(ht_factors), tree), tol=1e-2),
        ),
        (
            "tt_to_ht",
            conv_output_entries,
            lambda: _bind(te.tt_to_ht, TTTensor(on_backend(conv_cores))),
        ),
        (
            "ht_to_tt",
            ht_big.n_params + sum(c.size for c in te.ht_to_tt(ht_big).factors),
            lambda: _bind(te.ht_to_tt, te.HTTensor(on_backend(ht_big.factors), ht_big.tree)),
        ),
        (
            f"cp(rank={cp_r})",
            cp_dense.size,
            lambda: _bind(te.cp, tl.tensor(cp_dense), cp_r, random_state=0),
        ),
        (
            "cp_rank(tol=1e-2)",
            cpr_dense.size,
            lambda: _bind(te.cp_rank, tl.tensor(cpr_dense), 1e-2, max_rank=4, random_state=0),
        ),
        ("TT grid_tensor", g_m**g_d, lambda: _bind(net.grid_tensor, templates)),
        *(
            [("TT grid_tensor, 10^7", 10**7, lambda: _bind(net7.grid_tensor, templates))]
            if large
            else []
        ),
        ("relu_max TT grid_tensor", g_m**g_d, lambda: _bind(rnn.grid_tensor, templates)),
        ("HT grid_tensor", ht_m**htnet.d, lambda: _bind(htnet.grid_tensor, templates[:ht_m])),
        (
            "te.grid_tensor(network)",
            g_m**g_d,
            lambda: _bind(te.grid_tensor, net, templates, g_d, batch_size=2**16),
        ),
    ]


def _bind(fn, *args, **kwargs):
    return lambda: fn(*args, **kwargs)


def _block(result):
    """Wait for asynchronous backends (jax) so that the time covers the work."""
    leaves = result if isinstance(result, (list, tuple)) else [result]
    for leaf in leaves:
        factors = getattr(leaf, "factors", None)
        for t in factors if isinstance(factors, list) else [leaf]:
            if hasattr(t, "block_until_ready"):
                t.block_until_ready()
    return result


def best_time(call, repeat: int, clock=time.perf_counter) -> float:
    start = clock()
    _block(call())  # first call: compilation, caches
    if clock() - start > 5:
        repeat = 1  # slow rows: one timed call is precise enough
    times = []
    for _ in range(repeat):
        start = clock()
        _block(call())
        times.append(clock() - start)
    return min(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("large", "small", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="numpy,pytorch,jax,tensorflow")
    parser.add_argument("--only", default="", help="comma-separated name prefixes")
    parser.add_argument("--threads", default="1", help="BLAS / Eigen / XLA threads (default 1)")
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu: the process's CPU time (default; with one thread it is the work done, and "
        "other jobs on a shared machine do not inflate it), wall: elapsed time",
    )
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    backends = args.backends.split(",")
    only = [s for s in args.only.split(",") if s]
    sizes = ("large", "small") if args.size == "both" else (args.size,)
    ok = True
    for size in sizes:
        te.set_backend("numpy")
        jobs = [w for w in workloads(size) if not only or any(w[0].startswith(o) for o in only)]
        print(
            f"\n{size} inputs: {args.clock} seconds (best of {args.repeat} after a first call), "
            f"ratio to numpy; {args.threads} thread(s)"
        )
        head = "".join(f"{b:>21s}" for b in backends)
        print(f"{'function':26s} {'entries':>9s}{head}")
        for name, entries, make in jobs:
            cells, base = [], None
            for backend in backends:
                te.set_backend(backend)
                seconds = best_time(make(), args.repeat, clock)
                base = seconds if backend == "numpy" else base
                ratio = seconds / base if base else float("nan")
                fail = size == "large" and backend != "numpy" and ratio > TARGET
                ok &= not fail
                cells.append(f"{seconds:9.4f} s {ratio:6.2f}x{'!' if fail else ' '}")
            te.set_backend("numpy")
            print(f"{name:26s} {entries:9.1e}" + "".join(f"{c:>21s}" for c in cells), flush=True)
    print(f"\ntarget: every large-input ratio <= {TARGET} ('!' marks a miss)")
    print("ALL PASS" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
