"""Tests of tensorexpr.decomposition: TT-SVD, TT rounding, HSVD, HT rounding, conversions, CP."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import tensorly as tl
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from tensorly.tt_tensor import TTTensor

import tensorexpr as te
from tensorexpr import DimensionTree, HTTensor
from tensorexpr.decomposition._common import truncated_left_svd

# ---------------------------------------------------------------- helpers (numpy, slow paths)


def random_tt_cores(shape, ranks, rng):
    return [rng.standard_normal((ranks[k], n, ranks[k + 1])) for k, n in enumerate(shape)]


def tt_full(cores):
    """Independent TT reconstruction by einsum, left to right."""
    full = cores[0]
    for core in cores[1:]:
        full = np.tensordot(full, core, axes=([-1], [0]))
    return full.reshape(full.shape[1:-1])


def random_ht_factors(tree, n, r, rng):
    factors = []
    ranks = []
    for node in range(tree.n_nodes):
        rank = 1 if node == tree.root else r
        children = tree.children(node)
        if children is None:
            factors.append(rng.standard_normal((n, rank)))
        else:
            factors.append(rng.standard_normal((ranks[children[0]], ranks[children[1]], rank)))
        ranks.append(rank)
    return factors


def ht_full(factors, tree):
    """Independent HT reconstruction: node matrices by numpy kron, bottom-up."""
    mats = {}
    for node in range(tree.n_nodes):
        children = tree.children(node)
        if children is None:
            mats[node] = factors[node]
            continue
        ul, ur = mats[children[0]], mats[children[1]]
        b = factors[node]
        mats[node] = np.einsum("xa,yb,abc->xyc", ul, ur, b).reshape(-1, b.shape[2])
    order = tree.mode_order
    sizes = [factors[tree.leaf(m)].shape[0] for m in order]
    full = mats[tree.root].reshape(sizes)
    return np.transpose(full, np.argsort(order))


def matricization_rank(full, row_modes, rtol=1e-10):
    rows = list(row_modes)
    cols = [m for m in range(full.ndim) if m not in rows]
    mat = np.transpose(full, rows + cols).reshape(int(np.prod([full.shape[m] for m in rows])), -1)
    s = np.linalg.svd(mat, compute_uv=False)
    return int(np.sum(s > rtol * s[0]))


def as_backend(array, dtype="float64"):
    return tl.tensor(np.asarray(array), dtype=getattr(tl.backend, dtype))


def np_of(x):
    return np.asarray(tl.to_numpy(x))


def rel_error(approx, exact):
    return np.linalg.norm(approx - exact) / np.linalg.norm(exact)


def low_rank_plus_noise(shape, ranks, noise, rng):
    full = tt_full(random_tt_cores(shape, ranks, rng))
    full /= np.linalg.norm(full)
    return full + noise * rng.standard_normal(shape) / math.sqrt(full.size)


TOLS = [0.3, 1e-1, 1e-2, 1e-3, 1e-5, 1e-8, 1e-11]


# ---------------------------------------------------------------- TT-SVD


def test_tt_svd_exact_recovery(backend):
    rng = np.random.default_rng(0)
    shape, ranks = (3, 4, 3, 4), (1, 2, 3, 2, 1)
    full = tt_full(random_tt_cores(shape, ranks, rng))
    tensor = as_backend(full)
    for kwargs in ({"tol": 1e-12}, {"rank": list(ranks)}, {"rank": 3, "tol": 1e-12}):
        tt = te.tt_svd(tensor, **kwargs)
        assert tuple(tt.rank) == ranks, kwargs
        assert rel_error(np_of(tt.to_tensor()), full) <= 1e-10, kwargs


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tt_svd_dtypes_and_guarantee(backend, dtype):
    rng = np.random.default_rng(1)
    full = low_rank_plus_noise((4, 6, 5, 7), (1, 3, 4, 3, 1), 1e-2, rng)
    tensor = as_backend(full, dtype)
    slack = 1e-5 if dtype == "float32" else 1e-12
    for tol in (5e-2,):
        tt = te.tt_svd(tensor, tol=tol)
        assert dtype in str(tl.context(tt[0])["dtype"])
        assert rel_error(np_of(tt.to_tensor()).astype(np.float64), full) <= tol + slack


@pytest.mark.parametrize("kind", ["random", "low_rank_plus_noise", "wide"])
def test_tt_svd_error_guarantee_sweep(kind):
    rng = np.random.default_rng(2)
    if kind == "random":
        full = rng.standard_normal((4, 5, 6, 3))
    elif kind == "wide":  # first unfolding 3 x 2400: Gram route for the large tolerances
        full = low_rank_plus_noise((3, 8, 10, 30), (1, 3, 5, 4, 1), 1e-3, rng)
    else:
        full = low_rank_plus_noise((5, 4, 6, 5), (1, 2, 3, 2, 1), 1e-4, rng)
    previous = None
    for tol in TOLS:
        tt = te.tt_svd(full, tol=tol)
        assert rel_error(tt_full(tt.factors), full) <= tol * (1 + 1e-9), tol
        if previous is not None:  # smaller tolerance, never smaller ranks
            assert all(a >= b for a, b in zip(tt.rank, previous, strict=True))
        previous = tt.rank


def step_unfoldings(full, cores):
    """C_k of every TT-SVD step, recomputed from the returned left cores by numpy."""
    shape = full.shape
    mats = []
    left = np.ones((1, 1))  # (n_0 ... n_{k-1}, r_k)
    for k in range(len(shape) - 1):
        rest = full.reshape(left.shape[0], -1)
        projected = left.T @ rest  # (r_k, n_k ... n_{d-1})
        mats.append(projected.reshape(left.shape[1] * shape[k], -1))
        r0, n, r1 = cores[k].shape
        left = (left @ cores[k].reshape(r0, n * r1)).reshape(-1, r1)
    return mats


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("tol", [0.4, 0.1, 1e-2, 1e-7])
def test_tt_svd_ranks_minimal_per_step(seed, tol):
    """The documented minimality, by brute force: keeping r_k - 1 singular values of C_k
    discards more than delta = tol ||T|| / sqrt(d - 1), keeping r_k discards at most delta."""
    rng = np.random.default_rng(seed)
    full = low_rank_plus_noise((3, 4, 4, 5), (1, 3, 4, 3, 1), 0.05, rng)
    if seed == 2:
        full = rng.standard_normal((3, 40, 2, 3))  # wide first step: Gram route
    tt = te.tt_svd(full, tol=tol)
    delta = tol * np.linalg.norm(full) / math.sqrt(full.ndim - 1)
    for k, mat in enumerate(step_unfoldings(full, tt.factors)):
        s = np.linalg.svd(mat, compute_uv=False)
        r = tt.rank[k + 1]
        assert np.sqrt(np.sum(s[r:] ** 2)) <= delta * (1 + 1e-12)
        if r > 1:
            assert np.sqrt(np.sum(s[r - 1 :] ** 2)) > delta
    # k = 1 is a statement on the tensor itself: no rank r_1 - 1 approximation within delta
    s = np.linalg.svd(full.reshape(full.shape[0], -1), compute_uv=False)
    assert tt.rank[1] == 1 or np.sqrt(np.sum(s[tt.rank[1] - 1 :] ** 2)) > delta


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=5),
    tol=st.floats(1e-9, 0.9),
    seed=st.integers(0, 2**16),
)
def test_tt_svd_property_error_and_shape(shape, tol, seed):
    full = np.random.default_rng(seed).standard_normal(shape)
    tt = te.tt_svd(full, tol=tol)
    assert tt.shape == tuple(shape)
    assert rel_error(tt_full(tt.factors), full) <= tol * (1 + 1e-9)
    for k, core in enumerate(tt.factors[:-1]):  # left-orthonormal cores
        mat = core.reshape(-1, core.shape[2])
        np.testing.assert_allclose(mat.T @ mat, np.eye(mat.shape[1]), atol=1e-10, err_msg=k)


def test_tt_svd_rank_caps_match_tensorly():
    rng = np.random.default_rng(3)
    full = low_rank_plus_noise((4, 5, 6, 5), (1, 3, 4, 3, 1), 0.3, rng)
    caps = [1, 2, 3, 2, 1]
    ours = te.tt_svd(full, rank=caps)
    theirs = tl.decomposition.tensor_train(full, rank=caps)
    assert ours.rank == theirs.rank == tuple(caps)
    err_ours, err_theirs = (
        rel_error(tt_full(ours.factors), full),
        rel_error(tt_full(theirs.factors), full),
    )
    assert err_ours <= err_theirs * (1 + 1e-8)


@pytest.mark.parametrize("route", ["gram", "qr", "svd"])
def test_truncated_left_svd_routes_agree_with_numpy(route):
    rng = np.random.default_rng(4)
    u0, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    v0, _ = np.linalg.qr(rng.standard_normal((200, 6)))
    s0 = np.array([10.0, 5.0, 2.0, 1.0, 1e-2, 1e-3])
    mat = (u0 * s0) @ v0.T
    delta2 = 1.1e-2**2  # drops the last two singular values (1e-4 + 1e-6 <= 1.21e-4)
    u, w, tail2, taken = truncated_left_svd(mat, None, delta2, route=route)
    assert taken == route and tl.shape(u)[1] == 4
    np.testing.assert_allclose(tail2, 1e-4 + 1e-6, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(mat - u @ w) ** 2, tail2, rtol=1e-6)
    np.testing.assert_allclose(u.T @ u, np.eye(4), atol=1e-12)


def test_truncated_left_svd_auto_route_follows_accuracy():
    rng = np.random.default_rng(5)
    mat = rng.standard_normal((5, 400))
    norm2 = float(np.sum(mat**2))
    assert truncated_left_svd(mat, None, 1e-2 * norm2)[3] == "gram"
    assert truncated_left_svd(mat.T, None, 1e-2 * norm2)[3] == "qr"  # tall
    assert truncated_left_svd(mat[:, :6], None, 1e-2 * norm2)[3] == "svd"
    graded = np.diag([1.0, 1e-3, 1e-6, 1e-9, 1e-12]) @ rng.standard_normal((5, 400))
    g2 = float(np.sum(graded**2))
    # a budget below what C C^T resolves: the QR route, and the rank it needs is right
    u, _, _, taken = truncated_left_svd(graded, None, 1e-20 * g2)
    assert taken == "qr" and tl.shape(u)[1] == 4
    assert truncated_left_svd(graded, None, 1e-20 * g2, norm2=g2)[3] == "qr"
    # rank only, ill-conditioned kept part: Gram would lose it, the QR route is taken
    u, w, _, taken = truncated_left_svd(graded, 4, None)
    assert taken == "qr"
    s = np.linalg.svd(graded, compute_uv=False)
    np.testing.assert_allclose(np.linalg.norm(graded - u @ w), s[4], rtol=1e-3)


# ---------------------------------------------------------------- TT rounding


def test_tt_round_recovers_ranks_of_a_redundant_tt(backend):
    rng = np.random.default_rng(6)
    shape, ranks = (3, 4, 4, 3), (1, 2, 3, 2, 1)
    cores = random_tt_cores(shape, ranks, rng)
    # the same TT twice side by side (a sum of it with itself): ranks double, tensor doubles
    doubled = [np.concatenate([cores[0], cores[0]], axis=2)]
    for c in cores[1:-1]:
        block = np.zeros((2 * c.shape[0], c.shape[1], 2 * c.shape[2]))
        block[: c.shape[0], :, : c.shape[2]] = c
        block[c.shape[0] :, :, c.shape[2] :] = c
        doubled.append(block)
    doubled.append(np.concatenate([cores[-1], cores[-1]], axis=0))
    tt = TTTensor([as_backend(c) for c in doubled])
    rounded = te.tt_round(tt, tol=1e-12)
    assert rounded.rank == ranks
    assert rel_error(np_of(rounded.to_tensor()), 2 * tt_full(cores)) <= 1e-10


def test_tt_round_guarantee_and_agreement_with_tt_svd():
    rng = np.random.default_rng(7)
    full = low_rank_plus_noise((4, 5, 4, 5, 3), (1, 3, 4, 4, 3, 1), 0.05, rng)
    exact = te.tt_svd(full)  # no truncation: an exact TT with large ranks
    assert rel_error(tt_full(exact.factors), full) <= 1e-12
    for tol in TOLS:
        rounded = te.tt_round(exact, tol=tol)
        assert rel_error(tt_full(rounded.factors), full) <= tol * (1 + 1e-9)
        assert rounded.rank == te.tt_svd(full, tol=tol).rank
    capped = te.tt_round(exact, rank=2)
    assert max(capped.rank) == 2


# ---------------------------------------------------------------- HSVD


def test_ht_svd_exact_recovery(backend):
    rng = np.random.default_rng(8)
    tree = DimensionTree.balanced(4)
    factors = random_ht_factors(tree, 3, 2, rng)
    full = ht_full(factors, tree)
    tensor = as_backend(full)
    for kwargs in ({"tol": 1e-12}, {"rank": 2}):
        ht = te.ht_svd(tensor, **kwargs)
        assert ht.ranks == (2, 2, 2, 2, 2, 2, 1), kwargs
        assert rel_error(np_of(ht.to_tensor()), full) <= 1e-10, kwargs


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ht_svd_dtypes_and_guarantee(backend, dtype):
    rng = np.random.default_rng(9)
    full = low_rank_plus_noise((3, 4, 5, 3), (1, 2, 3, 2, 1), 1e-2, rng)
    slack = 1e-5 if dtype == "float32" else 1e-12
    for tol in (5e-2,):
        ht = te.ht_svd(as_backend(full, dtype), tol=tol)
        assert dtype in str(tl.context(ht[0])["dtype"])
        assert rel_error(np_of(ht.to_tensor()).astype(np.float64), full) <= tol + slack


TREES = [
    DimensionTree.balanced(5),
    DimensionTree.linear(4),
    DimensionTree(((0, 2), (1, 3))),  # leaves out of order: a transposition first
    DimensionTree(((3, (0, 4)), (2, 1))),
    DimensionTree.balanced(2),
]


@pytest.mark.parametrize("tree", TREES, ids=[str(t.structure) for t in TREES])
@pytest.mark.parametrize("kind", ["random", "low_rank_plus_noise"])
def test_ht_svd_error_guarantee_sweep(tree, kind):
    rng = np.random.default_rng(10)
    shape = (3, 4, 5, 3, 4)[: tree.d]
    if kind == "random":
        full = rng.standard_normal(shape)
    else:
        full = ht_full(random_ht_factors(tree, 1, 2, rng), tree)  # placeholder shape
        factors = random_ht_factors(tree, 1, 2, rng)
        factors = [
            rng.standard_normal((shape[tree.modes(i)[0]], 2)) if tree.is_leaf(i) else f
            for i, f in enumerate(factors)
        ]
        full = ht_full(factors, tree)
        full = full / np.linalg.norm(full) + 1e-4 * rng.standard_normal(shape) / 10
    for tol in TOLS:
        ht = te.ht_svd(full, tree=tree, tol=tol)
        assert ht.tree == tree
        assert rel_error(ht_full([np_of(f) for f in ht.factors], tree), full) <= tol * (1 + 1e-9)


def test_ht_svd_rank_caps():
    rng = np.random.default_rng(11)
    full = rng.standard_normal((4, 4, 4, 4))
    tree = DimensionTree.balanced(4)
    ht = te.ht_svd(full, rank=3)
    assert max(ht.ranks) == 3 and ht.ranks[tree.root] == 1
    caps = [2, 3, 4, 2, 3, 3, 1]
    ht = te.ht_svd(full, rank=caps)
    assert all(r <= c for r, c in zip(ht.ranks, caps, strict=True))


# ---------------------------------------------------------------- HT rounding


def test_ht_round_recovers_ranks(backend):
    rng = np.random.default_rng(12)
    tree = DimensionTree.balanced(4)
    factors = random_ht_factors(tree, 4, 2, rng)
    full = ht_full(factors, tree)
    # inflate every rank to 3 with random extra columns that the parent ignores (zero rows)
    inflated = []
    for node, f in enumerate(factors):
        if tree.is_leaf(node):
            inflated.append(np.concatenate([f, rng.standard_normal((f.shape[0], 1))], axis=1))
        else:
            rt = f.shape[2] + (node != tree.root)
            big = np.zeros((3, 3, rt))
            big[:2, :2, : f.shape[2]] = f
            if node != tree.root:
                big[:, :, -1] = rng.standard_normal((3, 3))
            inflated.append(big)
    ht = HTTensor([as_backend(f) for f in inflated], tree)
    assert max(ht.ranks) == 3
    rounded = te.ht_round(ht, tol=1e-12)
    assert rounded.ranks == (2, 2, 2, 2, 2, 2, 1)
    assert rel_error(np_of(rounded.to_tensor()), full) <= 1e-10


@pytest.mark.parametrize("tree", TREES[:3], ids=[str(t.structure) for t in TREES[:3]])
def test_ht_round_guarantee_sweep(tree):
    rng = np.random.default_rng(13)
    shape = (3, 4, 5, 3, 4)[: tree.d]
    full = rng.standard_normal(shape)
    exact = te.ht_svd(full, tree=tree)  # no truncation
    assert rel_error(exact.to_tensor(), full) <= 1e-12
    for tol in TOLS:
        rounded = te.ht_round(exact, tol=tol)
        assert rel_error(ht_full(rounded.factors, tree), full) <= tol * (1 + 1e-9)


def test_ht_round_with_output_mode():
    rng = np.random.default_rng(14)
    tree = DimensionTree.balanced(3)
    factors = random_ht_factors(tree, 3, 3, rng)
    factors[tree.root] = rng.standard_normal((3, 3, 2))  # C = 2 outputs
    ht = HTTensor(factors, tree)
    full = np.asarray(ht.to_tensor())
    assert full.shape == (3, 3, 3, 2)
    for tol in (0.3, 1e-2):
        rounded = te.ht_round(ht, tol=tol)
        assert rounded.shape == ht.shape
        assert rel_error(np.asarray(rounded.to_tensor()), full) <= tol * (1 + 1e-9)


# --------------------------------------- TT <-> HT, docs/theory.md 5.2


def test_tt_to_ht_and_back_are_exact(backend):
    rng = np.random.default_rng(15)
    shape, ranks = (2, 3, 2, 3, 2), (1, 2, 3, 3, 2, 1)
    cores = random_tt_cores(shape, ranks, rng)
    full = tt_full(cores)
    tt = TTTensor([as_backend(c) for c in cores])
    ht = te.tt_to_ht(tt)
    assert rel_error(np_of(ht.to_tensor()), full) <= 1e-12
    back = te.ht_to_tt(ht)
    assert rel_error(np_of(back.to_tensor()), full) <= 1e-12


@pytest.mark.parametrize(
    "tree", [None, DimensionTree.linear(5), DimensionTree(((0, (1, 2)), (3, 4)))]
)
def test_tt_ht_conversions_with_rounding(tree):
    rng = np.random.default_rng(15)
    shape, ranks = (2, 3, 2, 3, 2), (1, 2, 3, 3, 2, 1)
    cores = random_tt_cores(shape, ranks, rng)
    full = tt_full(cores)
    ht = te.tt_to_ht(cores, tree)
    assert rel_error(ht.to_tensor(), full) <= 1e-12
    assert te.ht_to_tt(ht, tol=1e-12).rank == ranks
    for tol in (0.3, 1e-2):
        assert rel_error(te.tt_to_ht(cores, tree, tol=tol).to_tensor(), full) <= tol * (1 + 1e-9)
        assert rel_error(te.ht_to_tt(ht, tol=tol).to_tensor(), full) <= tol * (1 + 1e-9)


@pytest.mark.parametrize(("d", "n"), [(4, 4), (8, 2)])
def test_tt_of_rank_r_has_ht_ranks_r_squared(d, n):
    """docs/theory.md 5.2 (TT -> HT: r^2), measured: <= r^2 everywhere, = r^2 at some node."""
    r = 2
    rng = np.random.default_rng(16)
    cores = random_tt_cores((n,) * d, (1,) + (r,) * (d - 1) + (1,), rng)
    full = tt_full(cores)
    tree = DimensionTree.balanced(d)
    ht = te.ht_round(te.tt_to_ht(TTTensor(cores)), tol=1e-13)
    assert rel_error(ht_full(ht.factors, tree), full) <= 1e-12
    brute = [matricization_rank(full, tree.modes(t)) for t in range(tree.n_nodes - 1)]
    assert list(ht.ranks[:-1]) == brute
    assert max(ht.ranks) == r**2


@pytest.mark.parametrize(("d", "n"), [(4, 3), (8, 2)])
def test_ht_of_rank_r_has_tt_ranks_up_to_r_pow_log2d_half(d, n):
    """docs/theory.md 5.2 (HT -> TT: r^(log2(d)/2)), measured on generic HT tensors of rank r."""
    r = 2
    rng = np.random.default_rng(17)
    tree = DimensionTree.balanced(d)
    factors = random_ht_factors(tree, n, r, rng)
    full = ht_full(factors, tree)
    tt = te.ht_to_tt(HTTensor(factors, tree), tol=1e-13)
    assert rel_error(tt_full(tt.factors), full) <= 1e-12
    brute = [matricization_rank(full, range(k + 1)) for k in range(d - 1)]
    assert list(tt.rank[1:-1]) == brute
    assert max(tt.rank) >= math.ceil(r ** (math.log2(d) / 2) - 1e-9)
    assert max(tt.rank) <= r ** int(math.log2(d))  # the exact conversion's bound


# ---------------------------------------------------------------- CP


def test_cp_exact_rank_one(backend):
    rng = np.random.default_rng(18)
    factors = [rng.standard_normal((n, 1)) for n in (3, 4, 2)]
    full = np.einsum("ia,ja,ka->ijk", *factors)
    fit = te.cp(as_backend(full), rank=1, n_restarts=1, random_state=0, max_iter=3)
    cp_tensor, err = fit.cp_tensor, fit.relative_error
    assert err <= 1e-10
    assert rel_error(np_of(tl.cp_to_tensor(cp_tensor)), full) == pytest.approx(err, abs=1e-9)


def test_cp_rank_finds_the_exact_rank():
    rng = np.random.default_rng(19)
    factors = [rng.standard_normal((n, 3)) for n in (4, 5, 6)]
    full = np.einsum("ia,ja,ka->ijk", *factors)
    result = te.cp_rank(full, tol=1e-6, random_state=0, max_iter=500)
    assert result.reached and result.rank == 3
    assert set(result.errors) == {1, 2, 3}
    assert result.errors[2] > 1e-6 >= result.errors[3] == result.relative_error
    assert rel_error(tl.cp_to_tensor(result.cp_tensor), full) <= 1e-6


def test_cp_rank_warns_when_max_rank_is_too_small():
    rng = np.random.default_rng(20)
    full = rng.standard_normal((3, 3, 3))
    with pytest.warns(UserWarning, match="max_rank"):
        result = te.cp_rank(full, tol=1e-8, max_rank=2, random_state=0)
    assert not result.reached and result.rank == 2


def test_cp_rank_above_a_mode_size_fits_without_tensorly_warning():
    # rank 3 > the mode size 2: tensorly's SVD start warns about a start tensorexpr chose
    rng = np.random.default_rng(22)
    factors = [rng.standard_normal((n, 3)) for n in (2, 4, 5)]
    full = np.einsum("ia,ja,ka->ijk", *factors)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = te.cp(full, 3, random_state=0, max_iter=500)
        cp_tensor, err = fit.cp_tensor, fit.relative_error
    assert err <= 1e-6
    assert rel_error(tl.cp_to_tensor(cp_tensor), full) == pytest.approx(err, abs=1e-9)


def test_cp_restarts_are_reproducible():
    full = np.random.default_rng(21).standard_normal((3, 4, 5))
    a = te.cp(full, 2, n_restarts=3, random_state=7)
    b = te.cp(full, 2, n_restarts=3, random_state=7)
    assert a.relative_error == b.relative_error
    one = te.cp(full, 2, n_restarts=1, random_state=7).relative_error
    # more restarts are never worse (the first start is the same)
    assert a.relative_error <= one + 1e-12


# ---------------------------------------------------------------- estimators


@pytest.mark.parametrize(
    ("estimator", "kind"),
    [
        (te.TTSVD(tol=0.1), TTTensor),
        (te.HTSVD(rank=2), HTTensor),
        (te.CP(rank=2), tl.cp_tensor.CPTensor),
    ],
)
def test_wrappers_are_sklearn_transformers(estimator, kind):
    full = np.random.default_rng(22).standard_normal((3, 4, 3, 2))
    cloned = clone(estimator)
    assert cloned.get_params() == estimator.get_params()
    assert not hasattr(cloned, "decomposition_")
    assert cloned.fit(full) is cloned
    assert isinstance(cloned.decomposition_, kind)
    assert isinstance(clone(estimator).fit_transform(full), kind)
    cloned.set_params(rank=1)
    assert cloned.get_params()["rank"] == 1


def test_wrappers_match_functions():
    full = np.random.default_rng(23).standard_normal((3, 4, 3, 2))
    assert te.TTSVD(tol=0.2).fit_transform(full).rank == te.tt_svd(full, tol=0.2).rank
    assert te.HTSVD(tol=0.2).fit_transform(full).ranks == te.ht_svd(full, tol=0.2).ranks


# ---------------------------------------------------------------- bad input, no mutation


@pytest.mark.parametrize("tol", [0, 1, -0.5, 1.5, float("nan")])
def test_tol_outside_open_unit_interval(tol):
    full = np.ones((2, 3, 4))
    for fn in (te.tt_svd, te.ht_svd):
        with pytest.raises(ValueError, match="tol must be a float in the open interval"):
            fn(full, tol=tol)
    with pytest.raises(ValueError, match="tol"):
        te.cp_rank(full, tol=tol)


def test_tol_of_wrong_type():
    with pytest.raises(TypeError, match="tol"):
        te.tt_svd(np.ones((2, 3)), tol="small")


@pytest.mark.parametrize("rank", [[1, 2, 1], [1, 2, 2, 2, 1], [1, 0, 2, 1], [2, 2, 2, 1], 0, -1])
def test_tt_bad_rank(rank):
    with pytest.raises(ValueError, match="rank must be a positive int"):
        te.tt_svd(np.ones((2, 3, 4)), rank=rank)


@pytest.mark.parametrize("rank", [2.5, "2", [1, 2.0, 2, 1], True])
def test_tt_rank_of_wrong_type(rank):
    with pytest.raises(TypeError, match="rank"):
        te.tt_svd(np.ones((2, 3, 4)), rank=rank)


def test_ht_bad_rank_and_tree():
    full = np.ones((2, 3, 4, 5))
    with pytest.raises(ValueError, match="rank must be .* one int >= 1 per tree node"):
        te.ht_svd(full, rank=[2, 2, 2])
    with pytest.raises(ValueError, match="root entry"):
        te.ht_svd(full, rank=[2] * 7)
    with pytest.raises(ValueError, match="tree must be a DimensionTree over d=4 modes"):
        te.ht_svd(full, tree=DimensionTree.balanced(3))
    # one check (trees.check_tree) for every function that takes a tree
    fmap = te.LinearFeatures.identity(2)
    for call in (
        lambda tree: te.ht_svd(full, tree=tree),
        lambda tree: te.HTNetwork.random(4, fmap, 2, tree=tree),
        lambda tree: te.construct_generalized(np.ones((2,) * 4), "ht", tree=tree),
        lambda tree: te.fit_generalized(np.ones((2,) * 4), "ht", tree=tree, max_iter=1),
    ):
        with pytest.raises(TypeError, match="tree must be None or a DimensionTree, got tuple"):
            call(((0, 1), (2, 3)))
        with pytest.raises(ValueError, match="tree must be a DimensionTree over d=4 modes"):
            call(DimensionTree.balanced(5))
    with pytest.raises(ValueError, match="at least 2 modes"):
        te.ht_svd(np.ones(4))
    with pytest.raises(ValueError, match="mode order"):
        te.ht_to_tt(te.ht_svd(full, tree=DimensionTree(((0, 2), (1, 3)))))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input(backend, bad):
    full = np.ones((2, 3, 4))
    full[1, 2, 3] = bad
    tensor = as_backend(full)
    for fn in (te.tt_svd, te.ht_svd, lambda t: te.cp(t, 1)):
        with pytest.raises(ValueError, match="tensor must contain only finite values"):
            fn(tensor)
    with pytest.raises(ValueError, match="finite"):
        te.tt_svd(np.ones((2, 50)) * np.inf)  # the Gram path checks as well


@pytest.mark.parametrize("bad", ["tensor", None, {"a": 1}, [["a", "b"]], np.array([1 + 1j, 2])])
def test_non_tensor_input(bad):
    for fn in (te.tt_svd, te.ht_svd):
        with pytest.raises(TypeError, match="tensor must be"):
            fn(bad)


def test_bad_structured_input():
    with pytest.raises(TypeError, match="tt must be a TTTensor"):
        te.tt_round(np.ones((2, 3)))
    with pytest.raises(ValueError, match="tt must be a valid list of TT cores"):
        te.tt_round([np.ones((1, 2, 2)), np.ones((3, 2, 1))])
    with pytest.raises(TypeError, match="ht must be an HTTensor"):
        te.ht_round([np.ones((2, 1))])
    with pytest.raises(TypeError, match="parafac_kwargs"):
        te.cp(np.ones((2, 3)), 1, random_state=0, return_errors=True)
    with pytest.raises(TypeError, match="n_restarts"):
        te.cp(np.ones((2, 3)), 1, n_restarts=1.5)


def test_inputs_are_not_modified():
    rng = np.random.default_rng(24)
    full = rng.standard_normal((3, 4, 50))
    before = full.copy()
    te.tt_svd(full, tol=0.1)
    te.tt_svd(full, rank=2)
    te.ht_svd(full, tol=0.1)
    te.cp(full, 2, random_state=0)
    np.testing.assert_array_equal(full, before)
    tt = te.tt_svd(full)
    cores = [c.copy() for c in tt.factors]
    te.tt_round(tt, tol=0.1)
    for a, b in zip(tt.factors, cores, strict=True):
        np.testing.assert_array_equal(a, b)
    ht = te.ht_svd(full)
    factors = [f.copy() for f in ht.factors]
    te.ht_round(ht, tol=0.1)
    te.ht_to_tt(ht)
    for a, b in zip(ht.factors, factors, strict=True):
        np.testing.assert_array_equal(a, b)
