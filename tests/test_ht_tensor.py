"""Tests of tensorexpr.ht_tensor: the HT format, its norm, inner product and orthogonalization."""

from __future__ import annotations

import numpy as np
import pytest
import tensorly as tl

from tensorexpr import DimensionTree, HTTensor
from tensorexpr.ht_tensor import ht_orthogonalize


def random_ht(tree, n, r, rng, root_rank=1):
    factors, ranks = [], []
    for node in range(tree.n_nodes):
        rank = root_rank if node == tree.root else r
        children = tree.children(node)
        shape = (n, rank) if children is None else (ranks[children[0]], ranks[children[1]], rank)
        factors.append(rng.standard_normal(shape))
        ranks.append(rank)
    return factors


def node_matrices(factors, tree):
    """U_t of every node by numpy einsum (the slow path)."""
    mats = {}
    for node in range(tree.n_nodes):
        children = tree.children(node)
        if children is None:
            mats[node] = factors[node]
        else:
            b = factors[node]
            full = np.einsum("xa,yb,abc->xyc", mats[children[0]], mats[children[1]], b)
            mats[node] = full.reshape(-1, b.shape[2])
    return mats


TREES = [DimensionTree.balanced(4), DimensionTree.linear(3), DimensionTree(((0, 2), (1, 3)))]


@pytest.mark.parametrize("tree", TREES, ids=[str(t.structure) for t in TREES])
def test_orthogonalize_keeps_the_tensor_and_orthonormalizes_frames(tree):
    rng = np.random.default_rng(0)
    ht = HTTensor(random_ht(tree, 3, 2, rng), tree)
    orth = ht.orthogonalize()
    np.testing.assert_allclose(orth.to_tensor(), ht.to_tensor(), atol=1e-12)
    mats = node_matrices(orth.factors, tree)
    for node in range(tree.n_nodes - 1):
        gram = mats[node].T @ mats[node]
        np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-12)
    root = orth.factors[tree.root]
    np.testing.assert_allclose(np.linalg.norm(root), np.linalg.norm(ht.to_tensor()), rtol=1e-12)


def test_orthogonalize_on_every_backend(backend):
    rng = np.random.default_rng(1)
    tree = DimensionTree.balanced(4)
    factors = random_ht(tree, 3, 2, rng)
    ht = HTTensor([tl.tensor(f, dtype=tl.backend.float64) for f in factors], tree)
    orth = ht_orthogonalize(ht)
    full = np.asarray(tl.to_numpy(ht.to_tensor()))
    np.testing.assert_allclose(np.asarray(tl.to_numpy(orth.to_tensor())), full, atol=1e-12)
    np.testing.assert_allclose(float(tl.to_numpy(orth.norm())), np.linalg.norm(full), rtol=1e-12)


def test_orthogonalize_shrinks_ranks_a_node_cannot_support():
    rng = np.random.default_rng(2)
    tree = DimensionTree.balanced(2)
    ht = HTTensor(random_ht(tree, 2, 3, rng), tree)  # leaf rank 3 > mode size 2
    orth = ht.orthogonalize()
    assert orth.ranks == (2, 2, 1)
    np.testing.assert_allclose(orth.to_tensor(), ht.to_tensor(), atol=1e-12)


def test_orthogonalize_with_output_mode_and_input_untouched():
    rng = np.random.default_rng(3)
    tree = DimensionTree.balanced(3)
    factors = random_ht(tree, 3, 2, rng, root_rank=4)
    copies = [f.copy() for f in factors]
    ht = HTTensor(factors, tree)
    orth = ht.orthogonalize()
    assert orth.shape == ht.shape == (3, 3, 3, 4)
    np.testing.assert_allclose(orth.to_tensor(), ht.to_tensor(), atol=1e-12)
    for a, b in zip(ht.factors, copies, strict=True):
        np.testing.assert_array_equal(a, b)


def test_norm_inner_and_n_params_against_numpy():
    rng = np.random.default_rng(4)
    tree = DimensionTree.balanced(4)
    a = HTTensor(random_ht(tree, 3, 2, rng), tree)
    b = HTTensor(random_ht(tree, 3, 2, rng), tree)
    fa, fb = a.to_tensor(), b.to_tensor()
    np.testing.assert_allclose(a.inner(b), np.sum(fa * fb), rtol=1e-12)
    np.testing.assert_allclose(a.norm(), np.linalg.norm(fa), rtol=1e-12)
    assert a.n_params == sum(f.size for f in a.factors) == 4 * 6 + 2 * 8 + 4


def test_orthogonalize_rejects_non_ht():
    with pytest.raises(TypeError, match="ht must be an HTTensor"):
        ht_orthogonalize([np.ones((2, 1))])
