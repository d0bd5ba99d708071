"""Completion from samples (tensorexpr/decomposition/_completion.py and its format modules):
every result is checked against the dense tensor it should recover, on small tensors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tensorly as tl
from tensorly.tt_tensor import TTTensor

import tensorexpr as te


def _random_tt(shape, rank, rng):
    d = len(shape)
    ranks = [1] + [rank] * (d - 1) + [1]
    return TTTensor([rng.random((ranks[k], n, ranks[k + 1])) for k, n in enumerate(shape)])


def _rel(a, b):
    a, b = np.asarray(tl.to_numpy(a)), np.asarray(tl.to_numpy(b))
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _entries(full, fraction, rng):
    mask = rng.random(full.shape) < fraction
    idx = np.argwhere(mask)
    return idx, full[mask], mask


def test_tt_complete_finds_the_rank_and_recovers_the_dense_tensor():
    rng = np.random.default_rng(0)
    shape = (6, 6, 6, 6, 6)
    full = tl.to_numpy(_random_tt(shape, 2, rng).to_tensor())
    idx, vals, _ = _entries(full, 0.25, rng)
    res = te.tt_complete(idx, vals, shape, tol=1e-9, random_state=0)
    assert res.ranks == (1, 2, 2, 2, 2, 1)
    assert res.converged and res.stop == "tol"
    assert _rel(res.tensor.to_tensor(), full) < 1e-7  # every entry, the unobserved ones too
    assert res.n_samples == len(idx) == res.n_train + res.n_validation
    assert len(res.train_errors) == len(res.validation_errors) == len(res.sweep_ranks)
    assert res.sweep_ranks[0] == (1, 1, 1, 1, 1, 1)  # grown from 1
    assert res.relative_error <= 1e-9


def test_tt_complete_mask_form_equals_index_form():
    rng = np.random.default_rng(1)
    shape = (5, 6, 7)
    full = tl.to_numpy(_random_tt(shape, 2, rng).to_tensor())
    idx, vals, mask = _entries(full, 0.5, rng)
    with_nan = np.where(mask, full, np.nan)  # unobserved entries may be NaN
    a = te.tt_complete(idx, vals, shape, rank=2, random_state=3)
    b = te.tt_complete(with_nan, mask=mask, rank=2, random_state=3)
    np.testing.assert_allclose(
        tl.to_numpy(a.tensor.to_tensor()), tl.to_numpy(b.tensor.to_tensor()), rtol=1e-12
    )
    assert _rel(b.tensor.to_tensor(), full) < 1e-8


@pytest.mark.parametrize("tree", [None, ((0, (1, 2)), (3, 4)), (((0, 1), 2), (3, 4))])
def test_ht_complete_on_any_tree_recovers_the_dense_tensor(tree):
    rng = np.random.default_rng(2)
    shape = (5, 4, 5, 4, 5)
    dtree = te.DimensionTree(tree) if tree is not None else te.DimensionTree.balanced(5)
    factors = []
    for node in range(dtree.n_nodes):
        ch = dtree.children(node)
        r = 1 if node == dtree.root else 2
        factors.append(
            rng.random((shape[dtree.modes(node)[0]], r)) if ch is None else rng.random((2, 2, r))
        )
    full = tl.to_numpy(te.HTTensor(factors, dtree).to_tensor())
    idx, vals, _ = _entries(full, 0.3, rng)
    res = te.ht_complete(idx, vals, shape, tree=dtree, tol=1e-9, random_state=0)
    assert isinstance(res.tensor, te.HTTensor) and res.tensor.tree == dtree
    assert res.converged
    assert max(res.ranks) == 2
    assert _rel(res.tensor.to_tensor(), full) < 1e-7


def test_cp_complete_recovers_the_dense_tensor():
    rng = np.random.default_rng(3)
    a, b, c = rng.random((3, 2, 7))
    full = np.einsum("ri,rj,rk->ijk", a, b, c)
    idx, vals, _ = _entries(full, 0.5, rng)
    res = te.cp_complete(idx, vals, full.shape, rank=2, tol=1e-9, max_iter=2000, random_state=0)
    assert res.ranks == 2 and res.converged
    assert _rel(res.tensor.to_tensor(), full) < 1e-7


def test_noisy_samples_give_an_error_near_the_noise_level():
    rng = np.random.default_rng(4)
    shape = (6, 6, 6, 6)
    full = tl.to_numpy(_random_tt(shape, 2, rng).to_tensor())
    idx, vals, _ = _entries(full, 0.4, rng)
    noise = 1e-3
    noisy = vals + noise * np.sqrt(np.mean(vals**2)) * rng.standard_normal(len(vals))
    res = te.tt_complete(idx, noisy, shape, random_state=0)
    assert 2 <= max(res.ranks) <= 3  # the true rank 2, or one more fitted to the noise
    assert _rel(res.tensor.to_tensor(), full) < 2 * noise
    assert res.relative_error < 3 * noise


def test_float32_and_backend_come_back():
    rng = np.random.default_rng(5)
    shape = (5, 5, 5)
    full = tl.to_numpy(_random_tt(shape, 2, rng).to_tensor()).astype(np.float32)
    idx, vals, _ = _entries(full, 0.6, rng)
    res = te.tt_complete(idx, vals, shape, rank=2, random_state=0)
    assert all("float32" in str(tl.context(c)["dtype"]) for c in res.tensor.factors)
    assert _rel(res.tensor.to_tensor(), full) < 1e-5
    res = te.ht_complete(idx, vals.astype(np.float64), shape, rank=2, random_state=0)
    assert all("float64" in str(tl.context(f)["dtype"]) for f in res.tensor.factors)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_backend_and_dtype_in_and_out(backend, dtype):
    """Backend tensors in (the mask form), backend factors of the values' dtype out, for the
    three formats; each checked against the dense tensor."""
    rng = np.random.default_rng(6)
    shape = (5, 5, 5)
    with te.backend_context("numpy"):
        full = _random_tt(shape, 2, rng).to_tensor().astype(dtype)
    cp_full = np.einsum("ri,rj,rk->ijk", *rng.standard_normal((3, 2, 8))).astype(dtype)
    tol = 1e-4 if dtype == "float32" else 1e-8
    ctx = {"dtype": getattr(tl.backend, dtype)}
    runs = [
        (te.tt_complete, full, {"rank": 2}),
        (te.ht_complete, full, {"rank": [2, 4, 2, 2, 1]}),  # mode 1 of a TT: rank 2 * 2
        (te.cp_complete, cp_full, {"rank": 2}),
    ]
    for fn, dense, kw in runs:
        observed = tl.tensor(rng.random(dense.shape) < 0.6)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # tol reached: no warning
            res = fn(tl.tensor(dense, **ctx), mask=observed, tol=tol / 10, random_state=0, **kw)
        factors = res.tensor.factors
        assert all(tl.is_tensor(f) and dtype in str(tl.context(f)["dtype"]) for f in factors)
        assert _rel(res.tensor.to_tensor(), dense) < tol, fn.__name__


def test_verbose_prints_one_line_per_sweep(capsys):
    rng = np.random.default_rng(7)
    full = tl.to_numpy(_random_tt((4, 4, 4), 1, rng).to_tensor())
    idx, vals, _ = _entries(full, 0.7, rng)
    res = te.tt_complete(idx, vals, full.shape, rank=1, verbose=True, random_state=0)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("tt_complete")]
    assert len(lines) == len(res.train_errors) and "validation error" in lines[0]


def test_score_function_grid_tensor_from_the_template_tuples_in_a_data_set():
    """A TT network's grid tensor known only at the template tuples that occur in a data
    set (points mapped to their nearest templates) is completed and compared with the grid
    tensor computed from the network itself."""
    rng = np.random.default_rng(8)
    d, n_in, m_templates = 6, 2, 4
    fmap = te.LinearFeatures(n_in, 3, random_state=0)
    net = te.TTNetwork.random(d, fmap, rank=2, random_state=0)
    templates = rng.standard_normal((m_templates, n_in))
    # a data set of sequences of d points; each point is replaced by its nearest template
    points = templates[rng.integers(0, m_templates, size=(1500, d))]
    points = points + 0.05 * rng.standard_normal(points.shape)
    nearest = np.argmin(((points[:, :, None, :] - templates) ** 2).sum(-1), axis=2)
    idx = np.unique(nearest, axis=0)
    scores = tl.to_numpy(net(tl.tensor(templates[idx])))
    res = te.tt_complete(idx, np.ravel(scores), (m_templates,) * d, tol=1e-9, random_state=0)
    grid = tl.to_numpy(net.grid_tensor(templates))
    assert len(idx) < 0.5 * grid.size
    assert max(res.ranks) <= 3  # the network's rank (times the feature dimension at most)
    assert _rel(res.tensor.to_tensor(), grid) < 1e-7


# -- bad input ---------------------------------------------------------------------------------
def test_duplicate_indices_are_averaged_with_a_warning():
    idx = np.array([[0, 0], [1, 1], [0, 0]])
    with pytest.warns(UserWarning, match="duplicate rows.*averaged"):
        res = te.tt_complete(
            idx, np.array([1.0, 2.0, 3.0]), (2, 2), rank=1, validation_fraction=0.0
        )
    assert res.n_samples == 2


def test_out_of_range_indices_raise():
    with pytest.raises(ValueError, match=r"out of range for shape \(3, 3\).*\[0, 3\]"):
        te.tt_complete(np.array([[0, 1], [0, 3]]), np.ones(2), (3, 3))
    with pytest.raises(ValueError, match="out of range"):
        te.ht_complete(np.array([[0, -1]]), np.ones(1), (3, 3))


def test_nan_values_raise():
    with pytest.raises(ValueError, match="values must be finite: 1 observed entries"):
        te.cp_complete(np.array([[0, 1], [1, 0]]), np.array([1.0, np.nan]), (2, 2))
    full = np.ones((2, 2))
    full[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        te.tt_complete(full, mask=np.ones((2, 2), bool))


def test_fewer_samples_than_parameters_warns():
    rng = np.random.default_rng(9)
    idx = np.unique(rng.integers(0, 6, size=(30, 4)), axis=0)
    with pytest.warns(UserWarning, match="training entries for .* degrees of freedom"):
        te.tt_complete(idx, rng.random(len(idx)), (6,) * 4, rank=3, max_iter=2)


def test_rank_growth_stops_before_it_has_more_parameters_than_samples():
    rng = np.random.default_rng(10)
    idx = np.unique(rng.integers(0, 5, size=(80, 4)), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = te.tt_complete(idx, rng.standard_normal(len(idx)), (5,) * 4, random_state=0)
    assert res.n_params <= res.n_train


def test_argument_errors():
    idx, vals = np.array([[0, 1]]), np.ones(1)
    with pytest.raises(TypeError, match="pass the observed entries as"):
        te.tt_complete(idx, vals)
    with pytest.raises(ValueError, match="shape has 3 modes but indices has 2 columns"):
        te.tt_complete(idx, vals, (2, 2, 2))
    with pytest.raises(ValueError, match="values must have one entry per index row"):
        te.tt_complete(idx, np.ones(2), (2, 2))
    with pytest.raises(TypeError, match="mask must be a boolean array"):
        te.tt_complete(np.ones((2, 2)), mask=np.ones((2, 2)))
    with pytest.raises(ValueError, match="validation_fraction"):
        te.tt_complete(idx, vals, (2, 2), validation_fraction=1.0)
    with pytest.raises(ValueError, match="rank must be"):
        te.tt_complete(idx, vals, (2, 2), rank=[1, 0, 1])
    with pytest.raises(TypeError, match="indices must be an int array"):
        te.tt_complete(np.array([[0.5, 1.0]]), vals, (2, 2))
