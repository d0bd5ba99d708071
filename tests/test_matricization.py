"""Matricizations and their ranks (tensorexpr/analysis/expressivity.py, first part)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorly as tl

import tensorexpr as te
from tensorexpr.experiments.theorem1 import witness_network


def test_matricization_against_index_formula(backend):
    T = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    M = tl.to_numpy(te.matricization(tl.tensor(T), [2, 0]))
    assert M.shape == (8, 15)
    for i in range(2):
        for j in range(3):
            for k in range(4):
                for m in range(5):
                    assert M[i * 4 + k, j * 5 + m] == T[i, j, k, m]  # rows sorted: (0, 2)


def test_odd_even_partitions():
    T = np.arange(16.0).reshape(2, 2, 2, 2)
    np.testing.assert_array_equal(te.matricization(T, "odd"), te.matricization(T, [0, 2]))
    np.testing.assert_array_equal(te.matricization(T, "even"), te.matricization(T, [1, 3]))


@pytest.mark.parametrize(("d", "m", "r"), [(2, 3, 2), (4, 3, 2), (4, 2, 3), (6, 2, 2), (6, 3, 3)])
def test_theorem1_witness_rank_is_exact(d, m, r):
    res = te.matricization_rank(witness_network(d, m, r), "odd")
    assert res.rank == min(m, r) ** (d // 2)
    assert res.gap == float("inf") or res.gap > 1e8


@pytest.mark.parametrize("d", [2, 4, 6])
def test_random_tt_meets_theorem1_bound(d):
    for r in (1, 2, 3):
        net = te.TTNetwork.random(d, te.LinearFeatures(3, 3, random_state=r), r, random_state=d)
        assert te.matricization_rank(net).rank >= min(3, r) ** (d // 2)


def test_rank_is_the_same_on_every_backend(backend):
    net = te.TTNetwork.random(4, te.LinearFeatures(3, 3, random_state=0), 2, random_state=0)
    templates = np.random.default_rng(1).standard_normal((3, 3))
    # F is invertible: the grid tensor has the rank of W (6 for this generic TT)
    assert te.matricization_rank(net).rank == 6
    assert te.matricization_rank(net, templates=templates).rank == 6
    res = te.matricization_rank(net.grid_tensor(templates))
    assert res.rank == 6 and res.atol > 0 and res.shape == (9, 9) and res.gap > 1e6


def test_rank_tolerance_is_stated_and_used():
    s = np.array([1.0, 1e-3, 1e-9])
    T = (np.diag(s) @ np.ones((3, 3)) * 0 + np.diag(s)).reshape(3, 3)
    res = te.matricization_rank(T, [0])
    assert res.rank == 3 and res.atol == pytest.approx(3 * np.finfo(float).eps)
    assert te.matricization_rank(T, [0], atol=1e-6).rank == 2
    assert te.matricization_rank(T, [0], atol=1e-6).gap == pytest.approx(1e6)
    assert int(te.matricization_rank(T, [0], atol=1e-2)) == 1


def test_matricization_errors():
    T = np.zeros((2, 2, 2))
    with pytest.raises(ValueError, match="row_modes must be 'odd', 'even'"):
        te.matricization(T, "diagonal")
    with pytest.raises(ValueError, match="row_modes must be modes in"):
        te.matricization(T, [3])
    with pytest.raises(ValueError, match="must not repeat"):
        te.matricization(T, [0, 0])
    with pytest.raises(ValueError, match="non-empty proper subset"):
        te.matricization(T, [0, 1, 2])
    with pytest.raises(ValueError, match="order >= 2"):
        te.matricization(np.zeros(3), "odd")
    with pytest.raises(ValueError, match="source must contain only finite"):
        te.matricization_rank(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="atol must be a finite number"):
        te.matricization_rank(T, atol=-1.0)
    with pytest.raises(ValueError, match="single output"):
        te.matricization_rank(te.TTNetwork.random(2, te.TrigFeatures(), 2, n_outputs=2))
