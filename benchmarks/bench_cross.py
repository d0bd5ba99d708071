"""TT-cross: te.tt_cross against teneva.cross on the same black boxes, in one run (issue 11).

For each black box both methods get the same index function (a counter wraps it), the same
number of held-out entries (1000; teneva's ``I_vld`` / ``y_vld``, tt_cross's ``n_test``) and the
same target error, and stop when the held-out relative error reaches it. Printed per method:
distinct entries evaluated (held-out ones included, for both), seconds, final TT ranks, and the
relative error on 10^4 further random entries that neither method saw. Targets: tt_cross uses
no more evaluations than teneva and at most 2x its time.

Black boxes:
- product TT-network, d = 20, M = 10 templates, m = 4, r = 3 (10^20 entries), target 1e-10;
- Schaffer function, d = 25, 64 points per mode on [-100, 100] (64^25 entries), target 1e-2;
- HT network (product), d = 16, M = 8, m = 4, rank 2 (8^16 entries), target 1e-8.

teneva is not a dependency of tensorexpr: ``pip install -e ".[bench]"``.

With ``--curves`` it prints instead the error-against-evaluations tables of docs/cross.md: a
generalized ReLU RNN (relu_max, d = 16, M = 8, m = 4, rank 4) and a product HT network
(d = 16, M = 8, m = 4, rank 3), tol from 1e-1 down to 1e-6, budget 2e6 evaluations.

Run: python benchmarks/bench_cross.py [--seeds 3] [--curves]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import tensorexpr as te
from tensorexpr.cross import tt_entries


class Counted:
    """An index function that counts the distinct entries it is asked for."""

    def __init__(self, fn):
        self.fn, self.seen = fn, set()

    def __call__(self, idx):
        idx = np.asarray(idx, dtype=np.int64)
        self.seen.update(map(bytes, idx))
        return self.fn(idx)


def network_box(net, templates):
    return lambda idx: np.asarray(net(templates[idx]))


def schaffer_box(d=25, n=64, a=-100.0, b=100.0):
    grid = np.linspace(a, b, n)

    def fn(idx):
        x = grid[idx]
        s = x[:, :-1] ** 2 + x[:, 1:] ** 2
        return np.sum(0.5 + (np.sin(np.sqrt(s)) ** 2 - 0.5) / (1.0 + 0.001 * s) ** 2, axis=1)

    return fn


def problems():
    rng = np.random.default_rng(0)
    tt_net = te.TTNetwork.random(20, te.ReLUFeatures(2, 4, random_state=0), 3, random_state=0)
    ht_net = te.HTNetwork.random(16, te.ReLUFeatures(2, 4, random_state=1), 2, random_state=1)
    yield (
        "product TT-network d=20 M=10",
        network_box(tt_net, rng.standard_normal((10, 2))),
        (10,) * 20,
        1e-10,
    )
    yield "Schaffer d=25 n=64", schaffer_box(), (64,) * 25, 1e-2
    yield "HT network d=16 M=8", network_box(ht_net, rng.standard_normal((8, 2))), (8,) * 16, 1e-8


def held_out_error(tt_cores, fn, idx):
    ref = fn(idx)
    return float(np.linalg.norm(np.asarray(tt_entries(tt_cores, idx)) - ref) / np.linalg.norm(ref))


def run_te(fn, shape, tol, seed):
    box = Counted(fn)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        info = te.tt_cross(box, shape, tol=tol, n_test=1000, random_state=seed)
        tt = info.tensor
    seconds = time.perf_counter() - start
    return len(box.seen), seconds, list(tt.factors), tuple(tt.rank), info.relative_error


def run_teneva(fn, shape, tol, seed, max_sweeps=200):
    import teneva

    rng = np.random.default_rng(seed)
    box = Counted(fn)
    start = time.perf_counter()
    i_vld = np.stack([rng.integers(0, n, size=1000) for n in shape], axis=1)
    y_vld = box(i_vld)
    y0 = teneva.rand(list(shape), r=1, seed=seed)
    info: dict = {}
    cores = teneva.cross(
        box, y0, nswp=max_sweeps, I_vld=i_vld, y_vld=y_vld, e_vld=tol, info=info, cache={}
    )
    cores = teneva.truncate(cores, tol / 10)
    seconds = time.perf_counter() - start
    ranks = (1, *[c.shape[2] for c in cores])
    return len(box.seen), seconds, cores, ranks, info["e_vld"]


def curves() -> None:
    rng = np.random.default_rng(0)
    features = te.ReLUFeatures(2, 4, random_state=0)
    nets = {
        "generalized ReLU RNN": te.TTNetwork.random(16, features, 4, xi="relu_max", random_state=0),
        "HT network": te.HTNetwork.random(16, features, 3, random_state=0),
    }
    for name, net in nets.items():
        templates = rng.standard_normal((8, 2))
        idx = rng.integers(0, 8, size=(10_000, 16))
        direct = np.asarray(net(templates[idx]))
        print(f"{name} d=16 M=8: tol | evaluations | error on 10^4 entries | max TT rank | stop")
        for tol in (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 1e-4, 1e-5, 1e-6):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                info = te.tt_cross(
                    net, templates=templates, tol=tol, max_evals=2_000_000, random_state=0
                )
                tt = info.tensor
            err = np.linalg.norm(np.asarray(tt_entries(tt, idx)) - direct) / np.linalg.norm(direct)
            print(f"  {tol:.0e} | {info.n_evals} | {err:.1e} | {max(tt.rank)} | {info.stop}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--curves", action="store_true", help="error against evaluations")
    args = parser.parse_args(argv)
    te.set_backend("numpy")
    if args.curves:
        curves()
        return 0
    ok = True
    for name, fn, shape, tol in problems():
        test_idx = np.stack(
            [np.random.default_rng(99).integers(0, n, size=10_000) for n in shape], axis=1
        )
        print(f"{name}: {np.prod(np.array(shape, dtype=float)):.1e} entries, target {tol:g}")
        rows = {"te.tt_cross": [], "teneva.cross": []}
        for seed in range(args.seeds):
            for label, runner in (("te.tt_cross", run_te), ("teneva.cross", run_teneva)):
                evals, seconds, cores, ranks, vld = runner(fn, shape, tol, seed)
                err = held_out_error(cores, fn, test_idx)
                rows[label].append((evals, seconds, err))
                print(
                    f"  seed {seed} {label:13s} evals {evals:9d}  {seconds:7.2f} s  "
                    f"max rank {max(ranks):3d}  held-out {vld:.1e}  test error {err:.1e}"
                )
        (e_te, t_te, err_te), (e_tn, t_tn, err_tn) = (
            np.median(np.array(rows[k]), axis=0) for k in rows
        )
        ev_ok, t_ok = e_te <= e_tn, t_te <= 2 * t_tn
        ok &= ev_ok and t_ok
        print(
            f"  median: evals te/teneva {e_te / e_tn:.2f} (target <= 1, "
            f"{'PASS' if ev_ok else 'FAIL'}), time te/teneva {t_te / t_tn:.2f} (target <= 2, "
            f"{'PASS' if t_ok else 'FAIL'}), test error te {err_te:.1e} teneva {err_tn:.1e}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
