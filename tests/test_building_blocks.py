"""Operators, dimension trees and feature maps (tensorexpr/operators.py, trees.py, features.py)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorly as tl
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorexpr as te
from tests._reference import UNIT, XI

finite = st.floats(-50, 50, allow_nan=False)


@pytest.mark.parametrize("name", sorted(XI))
@settings(max_examples=60, deadline=None)
@given(x=finite, y=finite, z=finite)
def test_operator_values_commutativity_associativity(name, x, y, z):
    xi = te.get_operator(name)
    f = lambda a, b: float(xi(np.array(a), np.array(b)))  # noqa: E731
    assert f(x, y) == pytest.approx(XI[name](x, y), rel=1e-12, abs=1e-12)
    assert f(x, y) == pytest.approx(f(y, x), rel=1e-12, abs=1e-12)
    assert f(f(x, y), z) == pytest.approx(f(x, f(y, z)), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("name", ["product", "relu_max", "relu_sum"])
@settings(max_examples=30, deadline=None)
@given(x=st.floats(0, 50))
def test_unit_is_the_identity_on_network_values(name, x):
    # relu_* produce non-negative values after the first step; the unit acts as identity there
    xi = te.get_operator(name)
    assert float(xi(np.array(x), np.array(xi.unit))) == pytest.approx(x)
    assert xi.unit == UNIT[name]


def test_operators_on_every_backend(backend):
    a = tl.tensor(np.array([-1.5, 0.25, 2.0]), dtype=tl.backend.float64)
    b = tl.tensor(np.array([0.5, -3.0, 2.0]), dtype=tl.backend.float64)
    for name in XI:
        out = tl.to_numpy(te.get_operator(name)(a, b))
        expected = [
            XI[name](x, y) for x, y in zip([-1.5, 0.25, 2.0], [0.5, -3.0, 2.0], strict=True)
        ]
        np.testing.assert_allclose(out, expected, rtol=1e-12)
        start = tl.to_numpy(te.get_operator(name).start(a))
        assert start.shape == (3,)


@settings(max_examples=40, deadline=None)
@given(
    sa=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    sb=st.lists(st.integers(1, 3), min_size=1, max_size=2),
    name=st.sampled_from(sorted(XI)),
)
def test_generalized_outer_shape_and_entries(sa, sb, name):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    out = te.generalized_outer(a, b, name)
    assert out.shape == tuple(sa) + tuple(sb)
    ia, ib = tuple(s - 1 for s in sa), tuple(s - 1 for s in sb)
    assert out[ia + ib] == pytest.approx(XI[name](a[ia], b[ib]))


def test_operator_errors():
    with pytest.raises(ValueError, match="xi must be one of"):
        te.get_operator("mean")
    with pytest.raises(TypeError, match="xi must be an operator name"):
        te.get_operator(3)
    with pytest.raises(ValueError, match="terms must be a non-empty"):
        te.get_operator("max").reduce([])


# -- trees -----------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(d=st.integers(1, 17))
def test_trees_cover_every_mode_once(d):
    for tree in (te.DimensionTree.balanced(d), te.DimensionTree.linear(d)):
        assert tree.d == d and tree.n_nodes == 2 * d - 1
        assert sorted(tree.mode_order) == list(range(d))
        for node in tree.internal_nodes:
            left, right = tree.children(node)
            assert left < node and right < node
            assert tree.parent(left) == node == tree.parent(right)
            assert tree.modes(node) == tree.modes(left) + tree.modes(right)
        assert [tree.modes(tree.leaf(k)) for k in range(d)] == [(k,) for k in range(d)]
    if d > 1:
        assert te.DimensionTree.balanced(d).depth() == int(np.ceil(np.log2(d)))
        assert te.DimensionTree.linear(d).depth() == d - 1


def test_balanced_tree_pairs_contiguous_modes():
    assert te.DimensionTree.balanced(8).structure == (((0, 1), (2, 3)), ((4, 5), (6, 7)))
    assert te.DimensionTree.balanced(6).structure == (((0, 1), (2, 3)), (4, 5))
    assert te.DimensionTree.linear(3).structure == ((0, 1), 2)


@pytest.mark.parametrize(
    ("structure", "error", "match"),
    [
        (((0, 1), (1, 2)), ValueError, "each exactly once"),
        (((0, 1), 3), ValueError, "modes 0..d-1"),
        (((0, 1, 2), 3), ValueError, "exactly 2 children"),
        (((0, "a"), 1), TypeError, "tree nodes must be ints"),
        (((0, -1), 1), ValueError, "modes >= 0"),
    ],
)
def test_bad_trees(structure, error, match):
    with pytest.raises(error, match=match):
        te.DimensionTree(structure)


def test_bad_tree_sizes():
    with pytest.raises(ValueError, match="d must be an int >= 1"):
        te.DimensionTree.balanced(0)
    with pytest.raises(TypeError, match="d must be an int"):
        te.DimensionTree.linear(2.5)


# -- features --------------------------------------------------------------------------
def test_feature_maps_against_formulas(backend):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 2))
    xt = tl.tensor(x, dtype=tl.backend.float64)
    relu = te.ReLUFeatures(2, 4, random_state=1)
    np.testing.assert_allclose(tl.to_numpy(relu(xt)), np.maximum(x @ relu.A.T + relu.b, 0))
    lin = te.LinearFeatures(2, 4, append_constant=True, random_state=1)
    np.testing.assert_allclose(
        tl.to_numpy(lin(xt)), np.c_[x @ lin.A.T + lin.b, np.ones(5)], rtol=1e-12
    )
    trig = te.TrigFeatures(2)
    expected = np.stack([np.cos(np.pi * x / 2), np.sin(np.pi * x / 2)], axis=2).reshape(5, 4)
    np.testing.assert_allclose(tl.to_numpy(trig(xt)), expected, atol=1e-15)
    poly = te.PolynomialFeatures(2, degree=3)
    np.testing.assert_allclose(tl.to_numpy(poly(xt)), np.c_[np.ones(5), x, x**2, x**3])
    assert (relu.n_features, lin.n_features, trig.n_features, poly.n_features) == (4, 4, 4, 7)


def test_feature_map_random_init_is_reproducible_and_comparable():
    assert te.ReLUFeatures(3, 5, random_state=2) == te.ReLUFeatures(3, 5, random_state=2)
    assert te.ReLUFeatures(3, 5, random_state=2) != te.ReLUFeatures(3, 5, random_state=3)
    params = te.ReLUFeatures(3, 5, random_state=2).get_params()
    assert te.ReLUFeatures(**params) == te.ReLUFeatures(3, 5, random_state=2)


def test_feature_map_errors():
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 2\)"):
        te.TrigFeatures(2)(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="n_features is required"):
        te.ReLUFeatures(2)
    with pytest.raises(ValueError, match=r"A must have shape \(m, 2\)"):
        te.ReLUFeatures(2, A=np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"b must have shape \(3,\)"):
        te.LinearFeatures(2, A=np.ones((3, 2)), b=np.ones(2))
    with pytest.raises(ValueError, match="A must contain only finite"):
        te.LinearFeatures(2, A=np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="n_inputs must be an int >= 1"):
        te.TrigFeatures(0)
    with pytest.raises(ValueError, match="n_features=4 does not match"):
        te.ReLUFeatures(2, 4, A=np.ones((3, 2)))
    with pytest.raises(ValueError, match="n_features must be >= 2"):
        te.ReLUFeatures(2, 1, append_constant=True)
