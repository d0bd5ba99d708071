"""Completion from samples: te.tt_complete against teneva.als on the same tensor (issue 20).

Every run draws the tensor, the observed entries (distinct multi-indices, uniform) and 10^4
further test entries that no method sees. Printed: samples N, seconds, ranks, relative error
on the test entries. Sections:

1. Random TT, d = 10, n = 10, rank 4, cores uniform on [0, 1]. te.tt_complete with the rank
   *not* given (grown from 1 to tol = 1e-8 on its 10% validation split) against teneva.als
   with the true rank 4 given (50 sweeps): from its random start teneva.rand with its default
   lamb = 1e-3 and with lamb = 1e-9; its rank-adaptive variant from rank 1 (max rank 4); and,
   as an ablation, from tensorexpr's start (first direction constant). For N on a grid; then
   the smallest N at which each reaches a test error <= 1e-8, and the ratios (samples, time
   at that N).
2. The same with standard normal cores (mean-zero, log-normal entries): a hard case, reported
   at one N for both methods.
3. Random HT, d = 16, n = 4, balanced tree, rank 3 (factors uniform on [0, 1]): ht_complete
   and tt_complete of the same tensor, rank not given, tol = 1e-8.
4. Noisy samples: the TT of section 1 with Gaussian noise of 1e-3 times the RMS entry added to
   the observed values; tt_complete without tol; the test error against the noiseless tensor
   must stay within 2x the noise level.
5. Interface products: the step a TT sweep takes 3d times, ``l_s^T G[:, i_s, :]`` for every
   sample, as an einsum over the gathered ``(r, N, r)`` core (before) and as one matmul per
   slice over the samples in it (tensorexpr's sweep now); ratios at ranks 4, 8, 12, N = 6000.

teneva is not a dependency of tensorexpr: ``pip install -e ".[bench]"``.

Run: python benchmarks/bench_completion.py [--quick]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import tensorly as tl

import tensorexpr as te
from tensorexpr.cross import tt_entries

TARGET = 1e-8


def random_tt(d, n, r, rng, kind="uniform"):
    draw = rng.random if kind == "uniform" else rng.standard_normal
    return [draw((1 if k == 0 else r, n, 1 if k == d - 1 else r)) for k in range(d)]


def tt_values(cores, idx):
    return np.asarray(tt_entries(cores, idx))


def ht_values(factors, tree, idx):
    """Entries of an HT tensor at multi-indices, node by node (independent of HTModel)."""
    frames = [None] * tree.n_nodes
    for node in range(tree.n_nodes):
        children = tree.children(node)
        if children is None:
            frames[node] = factors[node][idx[:, tree.modes(node)[0]]]
        else:
            left, right = frames[children[0]], frames[children[1]]
            frames[node] = np.einsum("na,nb,abc->nc", left, right, factors[node])
    return frames[tree.root][:, 0]


def sample(shape, n_samples, rng):
    idx = np.unique(np.stack([rng.integers(0, n, size=n_samples) for n in shape], axis=1), axis=0)
    while len(idx) < n_samples:
        more = np.stack([rng.integers(0, n, size=n_samples - len(idx)) for n in shape], axis=1)
        idx = np.unique(np.concatenate([idx, more]), axis=0)
    return idx


def rel(pred, true):
    return float(np.linalg.norm(np.asarray(pred) - true) / np.linalg.norm(true))


def run_te(fn, shape, idx, y, test, yt, **kw):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fn(idx, y, shape, random_state=0, **kw)
    seconds = time.perf_counter() - start
    return res, seconds


def run_teneva(idx, y, shape, rank, test, yt, lamb, start="random"):
    """teneva.als, 50 sweeps. ``start``: "random" (teneva.rand, rank given), "adaptive" (its
    rank-adaptive two-core variant from rank 1, up to ``rank``), or "constant" (an ablation:
    tensorexpr's start, first direction constant, given to teneva)."""
    import teneva

    start_time = time.perf_counter()
    if start == "adaptive":
        y0 = teneva.rand(list(shape), 1, seed=1)
        cores = teneva.als(idx, y, y0, nswp=50, e=1e-12, lamb=lamb, r=rank, e_adap=1e-10)
    else:
        y0 = teneva.rand(list(shape), rank, seed=1)
        if start == "constant":
            for core in y0:
                core[0, :, 0] = 1.0
        cores = teneva.als(idx, y, y0, nswp=50, e=1e-12, lamb=lamb)
    seconds = time.perf_counter() - start_time
    return rel(teneva.get_many(cores, test), yt), seconds


def section_tt(grid, kind, quick, adaptive=False):
    rng = np.random.default_rng(0)
    d, n, r = 10, 10, 4
    shape = (n,) * d
    cores = random_tt(d, n, r, rng, kind)
    test = np.stack([rng.integers(0, n, size=10_000) for _ in range(d)], axis=1)
    yt = tt_values(cores, test)
    print(f"\n== random TT d={d} n={n} rank {r}, cores {kind}; target test error {TARGET:g}")
    print(f"{'N':>7} {'method':<28} {'seconds':>8} {'test error':>11}  ranks / sweeps")
    rows = []
    for n_samples in grid:
        idx = sample(shape, n_samples, np.random.default_rng(n_samples))
        y = tt_values(cores, idx)
        res, sec = run_te(te.tt_complete, shape, idx, y, test, yt, tol=TARGET)
        err = rel(tt_entries(res.tensor, test), yt)
        print(
            f"{n_samples:7d} {'te.tt_complete (rank found)':<28} {sec:8.2f} {err:11.2e}  "
            f"{res.ranks[1:-1]} / {len(res.train_errors)} ({res.stop})",
            flush=True,
        )
        rows.append((n_samples, "te", sec, err))
        configs = [(1e-3, "random"), (1e-9, "random"), (1e-9, "constant")]
        if adaptive:
            configs.append((1e-9, "adaptive"))
        for lamb, start in configs[: 1 if quick else None]:
            err_t, sec_t = run_teneva(idx, y, shape, r, test, yt, lamb, start)
            label = f"teneva.als ({start}, {lamb:g})"
            print(f"{n_samples:7d} {label:<28} {sec_t:8.2f} {err_t:11.2e}", flush=True)
            rows.append((n_samples, f"teneva {start} {lamb:g}", sec_t, err_t))
    return rows


def summarise(rows):
    methods = sorted({m for _, m, _, _ in rows})
    first = {}
    for m in methods:
        ok = [(n, s) for n, mm, s, e in rows if mm == m and e <= TARGET]
        first[m] = min(ok) if ok else None
        text = f"N = {ok and min(ok)[0]}, {min(ok)[1]:.2f} s" if ok else "not reached on the grid"
        print(f"  smallest N reaching {TARGET:g}: {m:<14} {text}")
    te_first = first.get("te")
    for m in methods:
        if m != "te" and te_first and first[m]:
            n_ratio = te_first[0] / first[m][0]
            t_ratio = te_first[1] / first[m][1]
            print(f"  ratio te / {m}: samples {n_ratio:.2f}, time {t_ratio:.2f}")


def section_ht(grid, tt_at):
    rng = np.random.default_rng(1)
    d, n, r = 16, 4, 3
    shape = (n,) * d
    tree = te.DimensionTree.balanced(d)
    factors = []
    for node in range(tree.n_nodes):
        children = tree.children(node)
        rank = 1 if node == tree.root else r
        factors.append(rng.random((n, rank)) if children is None else rng.random((r, r, rank)))
    test = np.stack([rng.integers(0, n, size=10_000) for _ in range(d)], axis=1)
    yt = ht_values(factors, tree, test)
    print(f"\n== random HT d={d} n={n} balanced rank {r}; target test error {TARGET:g}")
    print(f"{'N':>7} {'method':<28} {'seconds':>8} {'test error':>11}  ranks / sweeps")
    for n_samples in grid:
        idx = sample(shape, n_samples, np.random.default_rng(n_samples))
        y = ht_values(factors, tree, idx)
        res, sec = run_te(te.ht_complete, shape, idx, y, test, yt, tol=TARGET)
        got = [np.asarray(tl.to_numpy(f)) for f in res.tensor.factors]
        err = rel(ht_values(got, tree, test), yt)
        print(
            f"{n_samples:7d} {'te.ht_complete':<28} {sec:8.2f} {err:11.2e}  "
            f"max rank {max(res.ranks)} / {len(res.train_errors)} ({res.stop})",
            flush=True,
        )
        if n_samples != tt_at:
            continue
        res, sec = run_te(te.tt_complete, shape, idx, y, test, yt, tol=TARGET)
        err = rel(tt_entries(res.tensor, test), yt)
        print(
            f"{n_samples:7d} {'te.tt_complete (same tensor)':<28} {sec:8.2f} {err:11.2e}  "
            f"{res.ranks[1:-1]} / {len(res.train_errors)} ({res.stop})",
            flush=True,
        )


def section_noise(n_samples):
    rng = np.random.default_rng(0)
    d, n, r = 10, 10, 4
    shape = (n,) * d
    cores = random_tt(d, n, r, rng)
    test = np.stack([rng.integers(0, n, size=10_000) for _ in range(d)], axis=1)
    yt = tt_values(cores, test)
    idx = sample(shape, n_samples, np.random.default_rng(n_samples))
    y = tt_values(cores, idx)
    noise = 1e-3
    noisy = y + noise * np.sqrt(np.mean(y**2)) * np.random.default_rng(7).standard_normal(len(y))
    res, sec = run_te(te.tt_complete, shape, idx, noisy, test, yt)
    err = rel(tt_entries(res.tensor, test), yt)
    print(f"\n== noisy samples: relative noise {noise:g}, N = {n_samples}")
    print(
        f"te.tt_complete (no tol): {sec:.2f} s, ranks {res.ranks[1:-1]}, validation error "
        f"{res.relative_error:.2e}, test error vs noiseless {err:.2e} = {err / noise:.2f} x "
        f"noise ({'within' if err <= 2 * noise else 'NOT within'} 2x) ({res.stop})"
    )


def gathered_products(vec, core, idx):
    """The interface products before: an einsum over the gathered (r, N, r) core."""
    return np.einsum("na,anb->nb", vec, core[:, idx, :])


def per_slice_products(vec, core, order, starts):
    """The interface products now: one matmul per slice over the samples in it."""
    out = np.empty((len(vec), core.shape[2]))
    for i in range(core.shape[1]):
        rows = order[starts[i] : starts[i + 1]]
        out[rows] = vec[rows] @ core[:, i, :]
    return out


def mean_seconds(fn, args, repeat):
    start = time.perf_counter()
    for _ in range(repeat):
        fn(*args)
    return (time.perf_counter() - start) / repeat


def section_interfaces(n_samples=6000, n=10, repeat=50):
    rng = np.random.default_rng(0)
    idx = rng.integers(0, n, n_samples)
    order = np.argsort(idx, kind="stable")
    starts = np.searchsorted(idx[order], np.arange(n + 1))
    print(f"\n== interface products l_s^T G[:, i_s, :], N = {n_samples}, n = {n}")
    for r in (4, 8, 12):
        core, vec = rng.random((r, n, r)), rng.random((n_samples, r))
        before, now = (vec, core, idx), (vec, core, order, starts)
        assert np.allclose(gathered_products(*before), per_slice_products(*now))
        t_before = mean_seconds(gathered_products, before, repeat)
        t_now = mean_seconds(per_slice_products, now, repeat)
        print(
            f"rank {r:2d}: einsum of the gathered core {t_before * 1e3:6.2f} ms, per-slice "
            f"matmul {t_now * 1e3:6.2f} ms, speed-up {t_before / t_now:.1f}x"
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--adaptive", action="store_true", help="also teneva's rank-adaptive ALS (slow)"
    )
    args = parser.parse_args()
    grid = [3000, 5000, 8000] if args.quick else [2000, 3000, 4000, 6000, 8000, 12000]
    rows = section_tt(grid, "uniform", args.quick, args.adaptive)
    summarise(rows)
    section_tt([20000], "normal", True)
    section_ht([2000, 4000, 8000], tt_at=8000)
    section_noise(10000)
    section_interfaces()


if __name__ == "__main__":
    main()
