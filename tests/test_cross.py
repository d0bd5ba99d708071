"""te.tt_cross and maxvol: checked against dense tensors, direct network evaluation and
brute-force determinants."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import tensorly as tl
from tensorly.tt_tensor import TTTensor

import tensorexpr as te
from tensorexpr.cross import maxvol, rect_maxvol, tt_entries


class Recorder:
    """An index function that records every index tuple it is asked for."""

    def __init__(self, fn):
        self.fn, self.calls = fn, []

    def __call__(self, idx):
        self.calls.append(np.array(idx))
        return self.fn(idx)

    @property
    def requested(self) -> np.ndarray:
        return np.concatenate(self.calls)


def dense_box(tensor):
    return lambda idx: tensor[tuple(np.asarray(idx).T)]


def random_tt_dense(shape, rank, seed) -> np.ndarray:
    """A dense numpy tensor of TT rank ``rank`` (contracted in numpy, whatever the backend)."""
    rng = np.random.default_rng(seed)
    ranks = [1] + [rank] * (len(shape) - 1) + [1]
    dense = np.ones((1, 1))
    for k, n in enumerate(shape):
        core = rng.standard_normal((ranks[k], n, ranks[k + 1]))
        dense = np.tensordot(dense, core, axes=1)
    return dense.reshape(shape)


def rel_err(a, b):
    a, b = np.asarray(tl.to_numpy(a)), np.asarray(tl.to_numpy(b))
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


# -- maxvol ----------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_maxvol_is_a_local_maximum_of_the_volume(seed):
    A = np.random.default_rng(seed).standard_normal((12, 3))
    rows, B = maxvol(A, tol=1.0)
    assert len(set(rows.tolist())) == 3
    np.testing.assert_allclose(B[rows], np.eye(3), atol=1e-12)
    np.testing.assert_allclose(B @ A[rows], A, atol=1e-12)
    vol = abs(np.linalg.det(A[rows]))
    # brute force: no single row swap increases |det| (tol = 1), and the global maximum is
    # within the r^(r/2) factor of the theory (Goreinov et al.)
    for j, i in itertools.product(range(3), range(12)):
        swapped = rows.copy()
        swapped[j] = i
        assert abs(np.linalg.det(A[swapped])) <= vol * (1 + 1e-10)
    best = max(abs(np.linalg.det(A[list(c)])) for c in itertools.combinations(range(12), 3))
    assert vol >= best / 3**1.5


@pytest.mark.parametrize("seed", range(5))
def test_rect_maxvol_coefficients_are_the_pseudo_inverse(seed):
    A = np.random.default_rng(seed).standard_normal((30, 4))
    rows, B = rect_maxvol(A, 7)
    assert len(set(rows.tolist())) == 7
    np.testing.assert_allclose(B, A @ np.linalg.pinv(A[rows]), atol=1e-10)
    # each greedy row raises det(A_I^T A_I): the chosen 7 beat the square maxvol's 4 rows
    sq, _ = maxvol(A)
    assert np.linalg.det(A[rows].T @ A[rows]) >= np.linalg.det(A[sq].T @ A[sq])


def test_maxvol_rejects_wide_matrices():
    with pytest.raises(ValueError, match="tall"):
        maxvol(np.ones((2, 3)))
    with pytest.raises(ValueError, match="n_rows"):
        rect_maxvol(np.ones((5, 2)), 6)


# -- black-box index functions --------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_index_function_recovers_a_dense_low_rank_tensor(seed):
    dense = random_tt_dense((5, 6, 4, 5), 2, seed=seed)
    info = te.tt_cross(dense_box(dense), np.array(dense.shape), tol=1e-10, random_state=seed)
    tt = info.tensor
    assert isinstance(tt, TTTensor)
    assert rel_err(tt.to_tensor(), dense) <= 1e-10
    assert tt.rank == (1, 2, 2, 2, 1)
    assert info.converged and info.stop == "tol"
    assert len(info.ranks) == len(info.errors) == len(info.evals) >= 1


def test_no_entry_is_evaluated_twice():
    fn = Recorder(lambda idx: 1.0 / (1.0 + idx.sum(axis=1)))
    info = te.tt_cross(fn, (8,) * 6, tol=1e-8, n_test=200, batch_size=97, random_state=1)
    requested = fn.requested
    assert len(np.unique(requested, axis=0)) == len(requested) == info.n_evals
    assert max(len(c) for c in fn.calls) <= 97


def test_fixed_random_state_is_deterministic():
    fn = lambda idx: np.sin(idx.sum(axis=1) / 3.0)  # noqa: E731
    ia = te.tt_cross(fn, (7,) * 5, tol=1e-8, random_state=3)
    a = ia.tensor
    ib = te.tt_cross(fn, (7,) * 5, tol=1e-8, random_state=3)
    b = ib.tensor
    assert ia.n_evals == ib.n_evals and ia.errors == ib.errors
    for x, y in zip(a.factors, b.factors, strict=True):
        np.testing.assert_array_equal(x, y)


def test_index_sets_are_nested_and_the_tt_interpolates_on_them():
    dense = random_tt_dense((4, 5, 4, 5), 3, seed=2)
    info = te.tt_cross(dense_box(dense), dense.shape, tol=1e-10, random_state=0)
    tt = info.tensor
    full = tl.to_numpy(tt.to_tensor())
    for k in range(1, 4):
        left, right = info.left_indices[k], info.right_indices[k]
        assert left.shape[1] == k and right.shape[1] == 4 - k
        prefixes = {tuple(r[:-1]) for r in left}
        assert prefixes <= {tuple(r) for r in info.left_indices[k - 1]}
        cross = [tuple(a) + tuple(b) for a in left for b in right]
        np.testing.assert_allclose([full[c] for c in cross], [dense[c] for c in cross], atol=1e-9)


def test_runs_to_round_off_without_tol_and_stops():
    dense = random_tt_dense((4, 4, 4), 2, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = te.tt_cross(dense_box(dense), dense.shape, n_test=20, random_state=0)
        tt = info.tensor
    assert info.stop in ("stagnation", "max_iter")
    assert rel_err(tt.to_tensor(), dense) <= 1e-12


# -- score functions of networks -------------------------------------------------------------
def test_product_tt_network_d20_ranks_and_error():
    """Must show: d = 20, M = 10, m = 4, r = 3 (10^20 entries)."""
    rng = np.random.default_rng(0)
    net = te.TTNetwork.random(20, te.ReLUFeatures(2, 4, random_state=0), 3, random_state=0)
    templates = rng.standard_normal((10, 2))
    info = te.tt_cross(net, templates=templates, tol=1e-10, random_state=0)
    tt = info.tensor
    assert tt.rank == net.ranks
    idx = rng.integers(0, 10, size=(10_000, 20))
    direct = net(tl.tensor(templates[idx]))
    assert rel_err(tt_entries(tt, idx), direct) <= 1e-10
    assert 0 < info.n_evals < 10_000  # reported, and a vanishing part of 10^20
    assert info.relative_error <= 1e-10


def test_ht_network_d16():
    rng = np.random.default_rng(1)
    net = te.HTNetwork.random(16, te.ReLUFeatures(2, 3, random_state=1), 2, random_state=1)
    templates = rng.standard_normal((6, 2))
    info = te.tt_cross(net, 16, templates=templates, tol=1e-9, random_state=0)
    tt = info.tensor
    # a TT bond crosses at most log2(16) = 4 tree edges of rank 2 and at most 3^k features
    assert max(tt.rank) <= 2**4
    idx = rng.integers(0, 6, size=(5000, 16))
    assert rel_err(tt_entries(tt, idx), net(tl.tensor(templates[idx]))) <= 1e-8


def test_score_function_matches_the_dense_grid_tensor():
    net = te.TTNetwork.random(
        5, te.ReLUFeatures(1, 4, random_state=2), 4, xi="relu_max", random_state=2
    )
    templates = np.linspace(-1, 1, 5)
    grid = tl.to_numpy(net.grid_tensor(templates))
    info = te.tt_cross(lambda X: net(X), 5, templates=templates, tol=1e-6, random_state=0)
    tt = info.tensor
    assert info.converged
    assert rel_err(tt.to_tensor(), grid) <= 1e-5


def test_generalized_relu_rnn_error_falls_with_evaluations():
    rng = np.random.default_rng(3)
    net = te.TTNetwork.random(
        10, te.ReLUFeatures(2, 4, random_state=3), 3, xi="relu_max", random_state=3
    )
    templates = rng.standard_normal((8, 2))
    idx = rng.integers(0, 8, size=(4000, 10))
    direct = net(tl.tensor(templates[idx]))
    errors = []
    for tol in (1e-1, 1e-2):
        info = te.tt_cross(net, templates=templates, tol=tol, random_state=0)
        tt = info.tensor
        errors.append((info.n_evals, rel_err(tt_entries(tt, idx), direct)))
    assert errors[0][0] < errors[1][0] and errors[1][1] < errors[0][1]
    assert errors[1][1] <= 2e-2


def test_backends_float64(backend):
    """The cross's linear algebra on each backend: same ranks, float64, round-off error."""
    dense = random_tt_dense((4, 5, 4, 5), 2, seed=6)
    info = te.tt_cross(dense_box(dense), dense.shape, tol=1e-10, n_test=100, random_state=0)
    tt = info.tensor
    assert tl.is_tensor(tt.factors[0]) and tl.get_backend() == backend
    assert "float64" in str(tl.context(tt.factors[0])["dtype"])
    assert tt.rank == (1, 2, 2, 2, 1)
    assert rel_err(tt.to_tensor(), dense) <= 1e-10
    tl.set_backend("numpy")
    ref = te.tt_cross(dense_box(dense), dense.shape, tol=1e-10, n_test=100, random_state=0)
    # the same algorithm: only round-off ties in maxvol may pick other rows
    assert abs(info.n_evals - ref.n_evals) <= 0.1 * ref.n_evals


@pytest.mark.slow
def test_backends_score_function(backend):
    """A network's score function evaluated on the backend's tensors, through the cross."""
    rng = np.random.default_rng(0)
    net = te.TTNetwork.random(4, te.ReLUFeatures(2, 3, random_state=0), 2, random_state=0)
    templates = rng.standard_normal((4, 2))
    info = te.tt_cross(net, templates=templates, tol=1e-10, n_test=100, random_state=0)
    tt = info.tensor
    assert tt.rank == net.ranks
    idx = rng.integers(0, 4, size=(200, 4))
    assert rel_err(tt_entries(tt, idx), net(tl.tensor(templates[idx]))) <= 1e-10


# -- parallel evaluations --------------------------------------------------------------------
def test_n_jobs_gives_the_same_result():
    from joblib import parallel_config

    fn = lambda idx: np.cos(idx @ np.arange(1.0, 7.0) / 10.0)  # noqa: E731
    ia = te.tt_cross(fn, (6,) * 6, tol=1e-8, random_state=0)
    a = ia.tensor
    with parallel_config(backend="threading"):
        ib = te.tt_cross(fn, (6,) * 6, tol=1e-8, random_state=0, n_jobs=2, batch_size=50)
        b = ib.tensor
    assert ia.n_evals == ib.n_evals
    np.testing.assert_allclose(a.to_tensor(), b.to_tensor(), rtol=1e-12, atol=1e-12)


@pytest.mark.slow
def test_dask_cluster_through_joblib():
    import distributed  # in the test extra: a missing one fails, never skips
    from joblib import parallel_config

    net = te.TTNetwork.random(8, te.ReLUFeatures(2, 3, random_state=0), 2, random_state=0)
    templates = np.random.default_rng(0).standard_normal((5, 2))
    iref = te.tt_cross(net, templates=templates, tol=1e-10, random_state=0)
    ref = iref.tensor
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        with distributed.Client(cluster), parallel_config(backend="dask"):
            info = te.tt_cross(net, templates=templates, tol=1e-10, random_state=0, n_jobs=-1)
            tt = info.tensor
    assert info.n_evals == iref.n_evals
    np.testing.assert_allclose(tt.to_tensor(), ref.to_tensor(), rtol=1e-10, atol=1e-12)


# -- budget and bad input --------------------------------------------------------------------
def test_budget_reached_is_a_warning_with_the_error():
    fn = Recorder(lambda idx: np.sqrt(1.0 + (idx**2).sum(axis=1)))
    with pytest.warns(RuntimeWarning, match=r"max_evals.*error \d"):
        info = te.tt_cross(fn, (20,) * 8, tol=1e-12, max_evals=3000, random_state=0)
        tt = info.tensor
    assert info.stop == "max_evals" and not info.converged
    assert info.n_evals <= 3000 and len(fn.requested) <= 3000
    assert np.isfinite(info.relative_error) and isinstance(tt, TTTensor)


def test_budget_too_small_for_one_sweep():
    with pytest.raises(ValueError, match="max_evals"):
        te.tt_cross(lambda idx: idx.sum(axis=1) * 1.0, (50,) * 4, max_evals=1001)
    with pytest.raises(ValueError, match="max_evals"):
        te.tt_cross(lambda idx: idx.sum(axis=1) * 1.0, (50,) * 4, max_evals=10, n_test=10)


def test_iteration_cap_warns():
    fn = lambda idx: np.sqrt(1.0 + (idx**2).sum(axis=1))  # noqa: E731
    with pytest.warns(RuntimeWarning, match="max_iter"):
        info = te.tt_cross(fn, (20,) * 6, tol=1e-14, max_iter=2, random_state=0)
    assert len(info.errors) == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"shape": (5,)}, ValueError, "shape"),
        ({"shape": 5}, TypeError, "shape"),
        ({"shape": None}, ValueError, "shape"),
        ({"shape": (5, 0)}, ValueError, r"shape\[k\]"),
        ({"tol": 0.0}, ValueError, "tol"),
        ({"tol": 1.0}, ValueError, "tol"),
        ({"tol": -0.5}, ValueError, "tol"),
        ({"tol": "1e-3"}, TypeError, "tol"),
        ({"rank": [1, 2, 2]}, ValueError, "rank"),
        ({"kick": -1}, ValueError, "kick"),
        ({"n_jobs": 0}, ValueError, "n_jobs"),
        ({"batch_size": 1.5}, TypeError, "batch_size"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    args = {"shape": (4, 4, 4), **kwargs}
    with pytest.raises(error, match=match):
        te.tt_cross(lambda idx: idx.sum(axis=1) * 1.0, **args)


@pytest.mark.parametrize(
    ("fn", "match"),
    [
        (lambda idx: np.ones((len(idx), 2)), "one value per index"),
        (lambda idx: np.ones(len(idx) + 1), "one value per index"),
        (lambda idx: np.where(idx[:, 0] == 1, np.nan, 1.0), "NaN or inf"),
        (lambda idx: np.where(idx[:, 1] == 2, np.inf, 1.0), "NaN or inf"),
    ],
)
def test_bad_fn_output(fn, match):
    with pytest.raises(ValueError, match=match):
        te.tt_cross(fn, (4, 4, 4), n_test=50, random_state=0)


def test_shape_that_disagrees_with_fn():
    dense = np.ones((3, 3, 3))
    with pytest.raises(ValueError, match="shape disagrees with fn"):
        te.tt_cross(dense_box(dense), (5, 5, 5), random_state=0)
    net = te.TTNetwork.random(4, te.ReLUFeatures(2, 3, random_state=0), 2, random_state=0)
    templates = np.zeros((5, 2))
    with pytest.raises(ValueError, match="shape disagrees with fn"):
        te.tt_cross(net, 6, templates=templates)
    with pytest.raises(ValueError, match="shape must be"):
        te.tt_cross(net, (4,) * 4, templates=templates)
    with pytest.raises(ValueError, match="templates"):
        te.tt_cross(net, templates=np.zeros((5, 3)))
    with pytest.raises(TypeError, match="fn must be callable"):
        te.tt_cross(np.ones(3), (3, 3))


def test_network_with_several_outputs_needs_one_score():
    net = te.TTNetwork.random(
        4, te.ReLUFeatures(2, 3, random_state=0), 2, n_outputs=2, random_state=0
    )
    templates = np.random.default_rng(0).standard_normal((5, 2))
    with pytest.raises(ValueError, match="n_outputs"):
        te.tt_cross(net, templates=templates)
    info = te.tt_cross(lambda X: net(X)[:, 1], 4, templates=templates, tol=1e-10, random_state=0)
    tt = info.tensor
    grid = tl.to_numpy(net.grid_tensor(templates))[..., 1]
    assert rel_err(tt.to_tensor(), grid) <= 1e-9
