"""Exact arithmetic of tensorexpr/analysis/_modular.py and tensorexpr/analysis/_exact.py, each
piece against an independent slow path:
ranks mod p against exact rational elimination and LAPACK, residues against Fractions, exact
features against the float feature maps, exact network values against a Fraction evaluation
of the recursions written out here, the structured sub-grid against pointwise values."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import tensorexpr as te
from tensorexpr.analysis._exact import (
    ExactNetwork,
    ModArithmetic,
    exact_feature_matrix,
    fractions_mod,
    mode_tuples,
    structured_matrix,
)
from tensorexpr.analysis._modular import PRIMES, matmul_mod, rank_mod_p, rank_rational, to_mod

P = PRIMES[0]


@pytest.mark.parametrize(
    ("n", "m", "r"), [(5, 7, 3), (40, 30, 20), (33, 150, 33), (150, 90, 70), (64, 64, 64)]
)
def test_rank_mod_p_equals_the_rational_rank(n, m, r):
    rng = np.random.default_rng(n + m)
    A = rng.integers(-3, 4, (n, r)) @ rng.integers(-3, 4, (r, m))
    A[:, 1] = 0  # a zero column inside the first panel
    A[:, m // 2] = A[:, 0] + A[:, 2]
    expected = np.linalg.matrix_rank(A.astype(np.float64))
    assert rank_mod_p(np.mod(A, P), P) == expected
    if n * m <= 2000:
        assert rank_rational(A) == expected


def test_rank_mod_p_sees_what_a_prime_divides():
    # det = p: singular mod p, invertible over Q (the bound is one-sided)
    A = np.array([[P, 0], [0, 1]])
    assert rank_mod_p(np.mod(A, P), P) == 1 and rank_rational(A) == 2
    assert rank_mod_p(np.mod(A, PRIMES[1]), PRIMES[1]) == 2


def test_matmul_mod_is_exact_past_the_float64_chunk():
    p = 67108859  # 2^26 - 5: two products per exact float64 chunk
    rng = np.random.default_rng(0)
    A = rng.integers(0, p, (7, 9))
    B = rng.integers(0, p, (9, 5))
    exact = np.array(
        [
            [sum(int(a) * int(b) for a, b in zip(row, col, strict=True)) % p for col in B.T]
            for row in A
        ]
    )
    np.testing.assert_array_equal(matmul_mod(A.astype(float), B.astype(float), p), exact)


def test_residues_of_floats_are_those_of_their_exact_values():
    x = np.array([0.1, -3.5, 1e-300, 7.0, 0.0, -(2.0**60) + 1.0, 1e300, np.pi])
    expected = [Fraction(v).numerator * pow(Fraction(v).denominator, -1, P) % P for v in x]
    np.testing.assert_array_equal(to_mod(x, P), expected)
    with pytest.raises(ValueError, match="finite"):
        to_mod(np.array([np.inf]), P)


@pytest.mark.parametrize(
    "fmap",
    [
        te.LinearFeatures(3, 4, random_state=0),
        te.ReLUFeatures(3, 4, append_constant=True, random_state=1),
        te.PolynomialFeatures(3, degree=3),
    ],
)
def test_exact_features_match_the_feature_maps(fmap):
    X = np.random.default_rng(2).standard_normal((6, 3))
    F = exact_feature_matrix(fmap, X)
    np.testing.assert_allclose(F.astype(np.float64), te.feature_matrix(fmap, X), rtol=1e-14)


def test_exact_features_refuse_transcendental_maps():
    with pytest.raises(ValueError, match="TrigFeatures; use method='submatrix'"):
        exact_feature_matrix(te.TrigFeatures(), np.zeros((2, 1)))


def _xi(name, x, y):
    relu = lambda v: max(v, Fraction(0))  # noqa: E731
    if name == "product":
        return x * y
    if name == "relu_max":
        return max(relu(x), relu(y))
    if name == "relu_sum":
        return relu(x) + relu(y)
    return max(x, y)


def _fraction_value(net, F, t):
    """The score on template tuple t in Fractions, from the formulas of the networks'
    docstrings (docs/theory.md sections 1 and 3), one scalar at a time."""
    q = lambda a: np.vectorize(Fraction, otypes=[object])(np.asarray(a))  # noqa: E731
    name = net.xi.name
    leaves = [list(F[i]) for i in t]
    if net.kind == "tt":
        mats = net.matrices
        a = [
            leaf if mats is None else list(q(mats[k]).dot(np.array(leaf, dtype=object)))
            for k, leaf in enumerate(leaves)
        ]
        first = q(net.cores[0][0])
        unit = Fraction(net.xi.unit) if net.xi.unit is not None else None
        start = [x if unit is None else _xi(name, x, unit) for x in a[0]]
        h = [sum(start[i] * first[i, k] for i in range(len(start))) for k in range(first.shape[1])]
        for t_ in range(1, net.d):
            G = q(net.cores[t_])
            h = [
                sum(
                    G[j, i, k] * _xi(name, a[t_][i], h[j])
                    for i in range(G.shape[1])
                    for j in range(G.shape[0])
                )
                for k in range(G.shape[2])
            ]
        return h[0]
    if net.kind == "cp":
        z = [
            q(f).T.dot(np.array(leaf, dtype=object))
            for f, leaf in zip(net.factors, leaves, strict=True)
        ]
        out = list(z[0])
        for term in z[1:]:
            out = [_xi(name, x, y) for x, y in zip(out, term, strict=True)]
        return sum(w * o for w, o in zip(q(net.weights[:, 0]), out, strict=True))
    tree, phi = net.tree, {}
    for k, leaf in enumerate(leaves):
        node = tree.leaf(k)
        phi[node] = list(q(net.factors[node]).T.dot(np.array(leaf, dtype=object)))
    for node in tree.internal_nodes:
        left, right = tree.children(node)
        B = q(net.factors[node])
        phi[node] = [
            sum(
                B[a, b, c] * _xi(name, phi[left][a], phi[right][b])
                for a in range(B.shape[0])
                for b in range(B.shape[1])
            )
            for c in range(B.shape[2])
        ]
    return phi[tree.root][0]


def _network(kind, xi, rng, d=4):
    fmap = te.ReLUFeatures(2, 3, random_state=rng)
    if kind == "tt":
        return te.TTNetwork.random(d, fmap, 2, xi=xi, hidden_size=3, random_state=rng)
    cls = {"cp": te.CPNetwork, "ht": te.HTNetwork}[kind]
    return cls.random(d, fmap, 2, xi=xi, random_state=rng)


@pytest.mark.parametrize("kind", ["tt", "cp", "ht"])
@pytest.mark.parametrize("xi", ["product", "relu_max", "relu_sum", "max"])
def test_exact_values_match_fractions_and_the_float_network(kind, xi):
    rng = np.random.default_rng(3)
    net = _network(kind, xi, rng)
    templates = rng.standard_normal((3, 2))
    F = exact_feature_matrix(net.feature_map, templates)
    flat = rng.integers(0, 3, (5, net.d))
    exact = ExactNetwork(net, F, "dyadic")
    values = exact.values(flat)
    expected = [_fraction_value(net, F, t) for t in flat]
    got = [Fraction(int(v)) / 2**values.s for v in values.V]
    assert got == expected
    np.testing.assert_allclose(
        [float(v) for v in expected], net(templates[flat]), rtol=1e-10, atol=1e-12
    )
    # residues of the integers V = value * 2^s (one scale for all entries: same ranks)
    scaled = [int(v * 2**values.s) % P for v in expected]
    np.testing.assert_array_equal(exact.residues(flat, P), scaled)
    if xi == "product":  # GF(p) arithmetic: the residues of the values themselves
        mod = ExactNetwork(net, F, "mod", P)
        residues = [v.numerator * pow(v.denominator, -1, P) % P for v in expected]
        np.testing.assert_array_equal(mod.residues(flat, P), residues)


@pytest.mark.parametrize("kind", ["tt", "cp", "ht"])
def test_structured_submatrix_mod_p_matches_pointwise(kind):
    rng = np.random.default_rng(4)
    net = _network(kind, "product", rng, d=6)
    templates = rng.standard_normal((3, 2))
    F = exact_feature_matrix(net.feature_map, templates)
    # modes 4 and 5 frozen at one template, mode 3 on two of three
    subsets = [np.arange(3)] * 3 + [np.array([0, 2]), np.array([1]), np.array([2])]
    S, T = (0, 2, 4), (1, 3, 5)
    B = structured_matrix(net, fractions_mod(F, P), subsets, S, T, ModArithmetic(P))
    rows, cols = mode_tuples(subsets, S), mode_tuples(subsets, T)
    exact = ExactNetwork(net, F, "mod", P)
    idx = np.empty((len(rows), len(cols), 6), dtype=np.int64)
    idx[:, :, list(S)] = rows[:, None, :]
    idx[:, :, list(T)] = cols[None, :, :]
    pointwise = exact.residues(idx.reshape(-1, 6), P).reshape(len(rows), len(cols))
    np.testing.assert_array_equal(B, pointwise)


def test_tt_grid_matches_pointwise_values():
    from tensorexpr.experiments.theorem5_2 import witness_grid, witness_rnn

    net = witness_rnn(3, 4)
    exact = ExactNetwork(net, exact_feature_matrix(net.feature_map, np.eye(3)), "dyadic")
    grid = exact.tt_grid(np.arange(3))
    np.testing.assert_array_equal(grid.V, witness_grid(3, 4).ravel())
    flat = mode_tuples([np.arange(3)] * 4, range(4))
    np.testing.assert_array_equal(exact.values(flat).V, grid.V)
