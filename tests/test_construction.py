"""construct_generalized: explicit networks reproduce any grid tensor ([K19] Theorem 5.1).

Every check evaluates the constructed network itself on every tuple of templates (its
``__call__`` on a batch of all M^d sequences), independent of the grid-tensor recursions.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tensorexpr as te

SHAPES = [(3, 4), (4, 4), (3, 6)]


def _evaluate(net, templates, d):
    """The network's scores on every template tuple, mode 0 slowest, as an (M,)*d array."""
    M = templates.shape[0]
    idx = np.array(list(itertools.product(range(M), repeat=d)))
    return np.asarray(net(templates[idx]), dtype=np.float64).reshape((M,) * d)


def _relative_error(net, T, templates=None):
    M, d = T.shape[0], T.ndim
    templates = np.eye(M) if templates is None else templates
    return np.linalg.norm(_evaluate(net, templates, d) - T) / np.linalg.norm(T)


@pytest.mark.parametrize("M, d", SHAPES)
@pytest.mark.parametrize("kind", ["cp", "tt"])
def test_relu_max_shallow_and_rnn_reproduce_20_random_tensors(M, d, kind):
    for seed in range(20):
        T = np.random.default_rng([seed, M, d]).standard_normal((M,) * d)
        net = te.construct_generalized(T, kind, xi="relu_max")
        assert net.kind == kind and net.xi.name == "relu_max"
        assert _relative_error(net, T) <= 1e-12, (seed, kind)


@pytest.mark.parametrize("M, d", SHAPES)
def test_relu_max_rnn_ranks_are_the_tt_svd_ranks(M, d):
    net = te.construct_generalized(
        np.ones((M,) * d) + np.eye(M)[0].reshape(M, *[1] * (d - 1)), "tt"
    )
    assert net.ranks == tuple(min(M**t, M ** (d - t)) for t in range(d + 1))
    assert all(c.shape == (M + 1, M) for c in net.matrices)  # C_t: M mismatch rows, 1 constant


@pytest.mark.parametrize("M, d", SHAPES)
def test_relu_max_shallow_width_is_M_to_the_d_minus_1_plus_1(M, d):
    T = np.random.default_rng(0).standard_normal((M,) * d)
    assert te.construct_generalized(T, "cp").rank == M ** (d - 1) + 1


@pytest.mark.parametrize("d", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("linear", [False, True])
def test_relu_max_ht_reproduces_random_tensors_on_balanced_and_linear_trees(d, linear):
    M = 3 if d < 6 else 2
    tree = te.DimensionTree.linear(d) if linear else te.DimensionTree.balanced(d)
    for seed in range(3):
        T = np.random.default_rng([seed, d]).standard_normal((M,) * d)
        net = te.construct_generalized(T, "ht", tree=tree)
        assert _relative_error(net, T) <= 1e-12
        # ranks: min(M^|S|, M^(d-|S|)) per node, +1 on one child of the root at most
        bound = [
            min(M ** len(tree.modes(n)), M ** (d - len(tree.modes(n))))
            for n in range(tree.n_nodes - 1)
        ]
        excess = [r - b for r, b in zip(net.ranks[:-1], bound, strict=True)]
        assert min(excess) == 0 and max(excess) <= 1 and sum(excess) <= 1


@pytest.mark.parametrize("kind", ["cp", "tt", "ht"])
def test_product_construction_is_exact(kind):
    T = np.random.default_rng(5).standard_normal((3, 3, 3, 3))
    net = te.construct_generalized(T, kind, xi="product")
    assert net.xi.name == "product"
    assert _relative_error(net, T) <= 1e-12
    if kind == "cp":
        assert net.rank == 27
    else:
        assert max(net.ranks[:-1]) == 9


@pytest.mark.parametrize("kind", ["cp", "tt", "ht"])
def test_relu_sum_construction_attains_the_floor_and_nothing_beats_it(kind):
    T = np.random.default_rng(6).standard_normal((3, 3, 3, 3))
    net = te.construct_generalized(T, kind, xi="relu_sum")
    floor = te.relu_sum_floor(T, kind)
    assert 0.3 < floor < 1
    assert _relative_error(net, T) == pytest.approx(floor, rel=1e-10)
    # the projection is orthogonal: the residual is orthogonal to every random relu_sum network
    P = te.relu_sum_projection(T, kind)
    cls = {"cp": te.CPNetwork, "tt": te.TTNetwork, "ht": te.HTNetwork}[kind]
    for seed in range(3):
        other = cls.random(4, te.LinearFeatures.identity(3), 3, xi="relu_sum", random_state=seed)
        G = _evaluate(other, np.eye(3), 4)
        assert abs(np.vdot(T - P, G)) <= 1e-10 * np.linalg.norm(T) * np.linalg.norm(G)


def test_relu_sum_floor_of_an_additive_tensor_is_zero_and_shallow_floor_is_largest():
    additive = np.add.outer(np.add.outer(np.arange(3.0), np.ones(3)), np.arange(3.0) ** 2)
    assert te.relu_sum_floor(additive, "cp") == pytest.approx(0, abs=1e-14)
    T = np.random.default_rng(7).standard_normal((3,) * 4)
    # the reachable sets are nested: additive in every mode < in (rest, last) / (left, right)
    assert te.relu_sum_floor(T, "cp") >= max(te.relu_sum_floor(T, "tt"), te.relu_sum_floor(T, "ht"))


def test_invertible_feature_matrix_templates():
    # scalar templates with polynomial features 1, x, x^2: a Vandermonde feature matrix
    templates = np.array([0.0, 1.0, 2.0])
    fmap = te.PolynomialFeatures(1, degree=2)
    T = np.random.default_rng(8).standard_normal((3, 3, 3))
    for kind in ("cp", "tt", "ht"):
        for xi in ("relu_max", "product"):
            net = te.construct_generalized(T, kind, xi, templates=templates, feature_map=fmap)
            assert net.feature_map is fmap
            assert _relative_error(net, T, templates[:, None]) <= 1e-10


def test_bad_input_is_rejected_with_a_clear_message():
    T = np.ones((3, 3, 3))
    with pytest.raises(ValueError, match="full row rank"):
        te.construct_generalized(
            T, templates=np.array([0.0, 1.0, 1.0]), feature_map=te.PolynomialFeatures(1, degree=2)
        )
    with pytest.raises(ValueError, match="kind must be one of"):
        te.construct_generalized(T, "mps")
    with pytest.raises(ValueError, match="xi must be one of"):
        te.construct_generalized(T, xi="softplus")
    with pytest.raises(ValueError, match="same size M"):
        te.construct_generalized(np.ones((3, 2)))
    with pytest.raises(ValueError, match="order d >= 2"):
        te.construct_generalized(np.ones(3))
    with pytest.raises(ValueError, match="at most"):
        te.construct_generalized(np.broadcast_to(0.0, (2,) * 25))
    with pytest.raises(TypeError, match="tensor must be"):
        te.construct_generalized([["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match="tree is only used"):
        te.construct_generalized(T, "tt", tree=te.DimensionTree.balanced(3))
    with pytest.raises(ValueError, match="identically zero"):
        te.relu_sum_floor(np.zeros((2, 2)))


def test_construction_ranks_table():
    row = te.construction_ranks("tt", 3, 6)
    assert row.ranks == (3, 9, 27, 9, 3) == row.product_lower
    assert te.construction_ranks("cp", 4, 4).ranks == (65,)
    ht = te.construction_ranks("ht", 3, 6)
    assert sum(ht.ranks) == sum(ht.product_lower) + 1
    with pytest.raises(ValueError, match="M must be"):
        te.construction_ranks("cp", 1, 4)


def test_every_operator_and_kind_has_one_construction():
    from tensorexpr.analysis.construction import ADDITIVE_GROUPS, BUILDERS, RANKS, XIS
    from tensorexpr.networks import KINDS

    assert set(BUILDERS) == set(XIS)
    for table in (*BUILDERS.values(), ADDITIVE_GROUPS, RANKS):
        assert set(table) == set(KINDS)
    with pytest.raises(ValueError, match=r"kind must be one of \('cp', 'tt', 'ht'\), got 'mps'"):
        te.construct_generalized(np.eye(2), "mps")
