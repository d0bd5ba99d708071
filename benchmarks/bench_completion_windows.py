"""A network's grid tensor from the template tuples that occur in a data set (issue 20).

MNIST-1D series (``mnist1d.data.make_dataset``, generated, length 40) are cut by
``SequenceWindows()`` into d = 19 windows of 4 values; every window is mapped to the nearest of
M k-means templates, so each series is one index tuple of the grid (M,) * d. A random TT (or HT)
network with ReLU features gives the values: its score on the templates of the tuple, which
is the grid tensor's entry there. ``tt_complete`` / ``ht_complete`` fit the grid tensor from
the training series' tuples only, and the result is checked against the network itself:

- on the test series' tuples (the entries a model of this data set is asked for),
- on 10^4 uniformly random tuples of the grid,
- on the whole grid, exactly: the relative Frobenius error between the completed TT and the
  network's structured grid tensor (``grid_tensor(..., structured=True)``), through TT inner
  products, never forming the M^d entries.

Run: ``python benchmarks/bench_completion_windows.py [--templates 4] [--rank 3]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import tensorexpr as te
from estimators import SequenceWindows
from tensorexpr.cross import tt_entries


def tt_inner(a, b) -> float:
    """<A, B> of two TT tensors given by their cores (numpy, float64)."""
    v = np.ones((1, 1))
    for ga, gb in zip(a, b, strict=True):
        v = np.einsum("ab,aic,bid->cd", v, np.asarray(ga, float), np.asarray(gb, float))
    return float(v[0, 0])


def tt_relative_distance(a, b) -> float:
    aa, bb, ab = tt_inner(a, a), tt_inner(b, b), tt_inner(a, b)
    return float(np.sqrt(max(aa - 2 * ab + bb, 0.0) / bb))


def windows_as_tuples(n_templates: int, seed: int):
    from mnist1d.data import get_dataset_args, make_dataset

    data = make_dataset(get_dataset_args())
    windows = SequenceWindows()
    train = windows.fit_transform(data["x"][:, None, :])  # (n, d, 4)
    test = windows.transform(data["x_test"][:, None, :])
    # one scale for every window (as the estimators' "shared" scaling)
    low, high = train.min(), train.max()
    train, test = (train - low) / (high - low), (test - low) / (high - low)
    templates = te.kmeans_templates(train, n_templates, random_state=seed)

    def nearest(seqs):
        dist = ((seqs[:, :, None, :] - templates[None, None]) ** 2).sum(-1)
        return dist.argmin(-1)

    return templates, nearest(train), nearest(test)


def network_scores(net, templates, tuples) -> np.ndarray:
    return np.asarray(net(templates[tuples]), dtype=np.float64).ravel()


def run(kind: str, n_templates: int, rank: int, seed: int) -> None:
    templates, train_idx, test_idx = windows_as_tuples(n_templates, seed)
    d = train_idx.shape[1]
    fmap = te.ReLUFeatures(n_inputs=templates.shape[1], n_features=4, random_state=seed)
    cls = te.TTNetwork if kind == "tt" else te.HTNetwork
    net = cls.random(d=d, feature_map=fmap, rank=rank, random_state=seed)
    seen = np.unique(train_idx, axis=0)
    values = network_scores(net, templates, seen)
    shape = (n_templates,) * d
    complete = te.tt_complete if kind == "tt" else te.ht_complete
    start = time.perf_counter()
    result = complete(seen, values, shape, tol=1e-8, random_state=seed)
    seconds = time.perf_counter() - start

    fitted = result.tensor if kind == "tt" else te.ht_to_tt(result.tensor)

    def predicted(idx):
        return np.asarray(tt_entries(fitted, idx), dtype=np.float64).ravel()

    def rel(idx):
        exact = network_scores(net, templates, idx)
        return float(np.linalg.norm(predicted(idx) - exact) / np.linalg.norm(exact))

    rng = np.random.default_rng(seed)
    uniform = rng.integers(0, n_templates, size=(10_000, d))
    grid = net.grid_tensor(templates, structured=True)
    if kind == "ht":
        grid = te.ht_to_tt(grid)
    whole = tt_relative_distance(fitted.factors, grid.factors)
    new_test = ~(test_idx[:, None, :] == seen[None]).all(-1).any(-1)
    print(
        f"{kind.upper()} network d={d}, M={n_templates}, rank {rank}: "
        f"{len(seen)} distinct training tuples of {len(train_idx)} series "
        f"({len(seen) / n_templates**d:.1e} of the grid), completed rank "
        f"{result.ranks} (stop: {result.stop}) in {seconds:.1f} s; relative error against the "
        f"network: test tuples {rel(test_idx):.1e} ({new_test.sum()} of {len(test_idx)} unseen), "
        f"uniform tuples {rel(uniform):.1e}, whole grid {whole:.1e}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=int, default=4)
    parser.add_argument("--rank", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for kind in ("tt", "ht"):
        run(kind, args.templates, args.rank, args.seed)


if __name__ == "__main__":
    main()
