"""tensorexpr's CP-ALS (``cp_als``) against tensorly's ``parafac`` and reconstruction."""

from __future__ import annotations

import numpy as np
import pytest
import tensorly as tl
from tensorly.cp_tensor import CPTensor, cp_to_tensor
from tensorly.decomposition import parafac

import tensorexpr as te
from tensorexpr.decomposition._cp import _mttkrp, cp_als


def _low_rank(rng, shape, rank):
    factors = [rng.standard_normal((n, rank)) for n in shape]
    with tl.backend_context("numpy"):
        return cp_to_tensor((np.ones(rank), factors)), factors


@pytest.mark.parametrize("shape", [(5, 6), (4, 5, 6), (3, 4, 2, 5)])
def test_mttkrp_matches_the_unfolding_product(shape):
    """Independent path: tensorly's unfolding times tensorly's Khatri-Rao product."""
    rng = np.random.default_rng(0)
    tensor = rng.standard_normal(shape)
    factors = [rng.standard_normal((n, 3)) for n in shape]
    for mode in range(len(shape)):
        others = [f for k, f in enumerate(factors) if k != mode]
        expected = tl.unfold(tensor, mode) @ tl.tenalg.khatri_rao(others)
        assert np.allclose(_mttkrp(tensor, factors, mode, shape), expected)


def test_cp_als_recovers_an_exact_low_rank_tensor(backend):
    rng = np.random.default_rng(1)
    full, _ = _low_rank(rng, (6, 7, 8), 3)
    fit = te.cp(tl.tensor(full), 3, n_restarts=1, random_state=0, max_iter=200)
    cp_tensor, error = fit.cp_tensor, fit.relative_error
    assert error < 1e-6
    assert np.allclose(tl.to_numpy(cp_to_tensor(cp_tensor)), full, atol=1e-5)


def test_cp_als_is_as_good_as_parafac_from_the_same_start():
    rng = np.random.default_rng(2)
    full, _ = _low_rank(rng, (8, 9, 10), 4)
    full = full + 0.05 * rng.standard_normal(full.shape)
    norm = np.linalg.norm(full)
    start = CPTensor((np.ones(4), [rng.random((n, 4)) for n in full.shape]))
    ours = cp_als(full, 4, norm**2, n_iter_max=200, tol=0, init=start)
    theirs = parafac(full, 4, init=start, n_iter_max=200, tol=0)
    e_ours = np.linalg.norm(full - cp_to_tensor(ours)) / norm
    e_theirs = np.linalg.norm(full - cp_to_tensor(theirs)) / norm
    # the same ALS sweeps from the same start: the same fit up to rounding
    assert abs(e_ours - e_theirs) < 1e-6


def test_other_parafac_keywords_go_to_tensorly():
    rng = np.random.default_rng(3)
    full, _ = _low_rank(rng, (4, 5, 6), 2)
    fit = te.cp(full, 2, random_state=0, normalize_factors=True, max_iter=300)
    cp_tensor, error = fit.cp_tensor, fit.relative_error
    assert error < 1e-4
    # normalize_factors is parafac's: unit-norm factor columns, the scale in the weights
    assert np.allclose(np.linalg.norm(cp_tensor.factors[0], axis=0), 1.0)


def test_bad_init_is_refused():
    with pytest.raises(ValueError, match="init must be 'svd', 'random' or a CPTensor"):
        te.cp(np.ones((2, 3, 4)), 1, init="orthogonal-ish")
    with pytest.raises(ValueError, match="init must be a CP tensor of rank 2"):
        te.cp(
            np.ones((2, 3, 4)), 2, init=CPTensor((np.ones(1), [np.ones((n, 1)) for n in (2, 3, 4)]))
        )
