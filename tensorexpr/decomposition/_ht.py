"""Hierarchical Tucker (HT) decomposition: HSVD, HT rounding, and exact TT <-> HT conversions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorly as tl
from sklearn.base import BaseEstimator, TransformerMixin
from tensorly.tt_tensor import TTTensor

from .._backend import dot_t, transposes_are_views
from ..ht_tensor import HTTensor, check_ht, contract_children, ht_orthogonalize
from ..trees import DimensionTree, check_tree
from ..validation import check_tensor
from ._common import (
    CHUNKED,
    WIDE,
    check_ht_rank,
    check_tol,
    eps_of,
    gram_rank,
    is_dask_array,
    rank_from_singular_values,
    squared_norm,
    truncated_left_svd,
)
from ._tt import check_tt, tt_round

__all__ = ["ht_svd", "ht_round", "tt_to_ht", "ht_to_tt", "HTSVD"]


def ht_svd(
    tensor,
    tree: DimensionTree | None = None,
    rank: int | Sequence[int] | None = None,
    tol: float | None = None,
) -> HTTensor:
    """HT decomposition by the hierarchical SVD, truncated from the leaves to the root.

    Each leaf basis is the leading left singular subspace of its mode's matricization, taken on
    the tensor already projected on the previous leaves (sequential truncation on a shrinking
    tensor; the Gram matrix of a mode is formed without transposing the tensor, and a leaf kept
    at full rank gets the identity basis at no cost). Then each internal node in post-order gets
    the leading left singular subspace of its children's reduced modes, and the root transfer
    tensor is what remains. The two children of the root share one matricization, so there are
    ``2 d - 3`` truncations; each discards at most ``delta = tol * ||tensor|| / sqrt(2 d - 3)``.
    Routes as in :func:`tt_svd`; with ``tol`` the final error is also checked a posteriori
    (the squared norm lost) and the exact route is rerun should the Gram route have missed.

    Guarantee (with ``tol`` given and no binding ``rank`` cap): the projections are orthogonal
    and commute (every frame lies in the span of its children's), so the squared error is the
    sum of the squared discarded parts and ``||tensor - ht.to_tensor()|| <= tol * ||tensor||``.
    Each rank is the smallest meeting its own budget on the matricization it truncates.

    Parameters
    ----------
    tensor : tensor or array-like
        Real tensor of order d >= 2. A ``dask.array.Array`` is decomposed chunk by chunk (a
        TT in two passes, then HT rounding; leaves in mode order, ``tol`` required), with the
        same error bound (docs/larger_than_memory.md).
    tree : DimensionTree or None
        Dimension tree with d leaves; default ``DimensionTree.balanced(d)``.
    rank : int, list of ints (one per tree node, post-order, root entry 1), or None
        Rank caps. A cap that binds voids the error guarantee.
    tol : float in (0, 1) or None
        Relative Frobenius error target. With ``rank=None`` and ``tol=None`` nothing is truncated.

    Returns
    -------
    HTTensor
        Orthonormal leaf bases and transfer tensors (all frames orthonormal), root rank 1.

    References
    ----------
    L. Grasedyck. Hierarchical singular value decomposition of tensors. SIAM J. Matrix Anal.
    Appl. 31(4):2029-2054, 2010 (leaves-to-root truncation, Theorem 3.17).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import ht_svd
    >>> x = np.arange(1.0, 4.0)
    >>> tensor = np.einsum("i,j,k,l->ijkl", x, x, x, x)
    >>> ht = ht_svd(tensor, tol=1e-8)
    >>> ht.ranks
    (1, 1, 1, 1, 1, 1, 1)
    >>> bool(np.allclose(ht.to_tensor(), tensor))
    True
    """
    if is_dask_array(tensor):
        return CHUNKED["ht_svd"](tensor, tree, rank, tol)
    tensor = check_tensor(tensor, "tensor", min_ndim=2, check_finite=False)
    tol = check_tol(tol)
    d = tl.ndim(tensor)
    tree = check_tree(tree, d)
    caps = check_ht_rank(rank, tree)
    norm2 = squared_norm(tensor)
    delta2 = None if tol is None else tol**2 * norm2 / (2 * d - 3)
    order = tree.mode_order
    core = tensor if order == tuple(range(d)) else tl.transpose(tensor, order)
    ht, root_norm2 = _hsvd(core, tree, caps, delta2, exact=False)
    if tol is not None and norm2 - root_norm2 > tol**2 * norm2:
        # a posteriori check of the Gram route (all frames orthonormal: the squared error is
        # the squared norm lost); should rounding have defeated it, redo on the exact route
        ht, _ = _hsvd(core, tree, caps, delta2, exact=True)
    return ht


def _mode_gram(core, n: int):
    """Gram matrix of the middle mode of a core of shape (A, n, B), without transposing it."""
    a, _, b = tl.shape(core)
    if b == 1:
        matrix = tl.reshape(core, (a, n))
        return dot_t(matrix, matrix, transpose_a=True)
    if a == 1:
        matrix = tl.reshape(core, (n, b))
        return dot_t(matrix, matrix, transpose_b=True)
    if b * b * n <= a and b <= 16:
        # few trailing columns: one (n b) x (n b) Gram matrix, then the trace over b
        matrix = tl.reshape(core, (a, n * b))
        full = tl.reshape(dot_t(matrix, matrix, transpose_a=True), (n, b, n, b))
        return tl.einsum("ibjb->ij", full)
    if not transposes_are_views():
        return tl.einsum("anb,amb->nm", core, core)
    return tl.sum(tl.matmul(core, tl.transpose(core, (0, 2, 1))), axis=0)


def _project_mode(core, u):
    """``u^T`` applied to the middle mode of a core (A, n, B) -> (A, k, B)."""
    a, n, b = tl.shape(core)
    k = tl.shape(u)[1]
    if b == 1:
        return tl.reshape(tl.dot(tl.reshape(core, (a, n)), u), (a, k, 1))
    if a == 1:
        return tl.reshape(tl.dot(tl.transpose(u), tl.reshape(core, (n, b))), (1, k, b))
    return tl.matmul(tl.transpose(u), core)


def _hsvd(core, tree: DimensionTree, caps, delta2, exact: bool):
    """Leaves-to-root HSVD of ``core`` (modes in tree order); returns (ht, ||root||^2)."""
    d = tree.d
    shape = list(tl.shape(core))
    eps = eps_of(core)
    factors: list = [None] * tree.n_nodes
    # the root child truncated last shares its matricization with its sibling: no budget
    last = tree.internal_nodes[-2] if d > 2 else tree.leaf(tree.mode_order[-1])
    # leaves, sequentially on the shrinking core, mode j seen as the middle of (A, n_j, B)
    for j, mode in enumerate(tree.mode_order):
        node = tree.leaf(mode)
        budget = None if node == last else delta2
        a, n = int(np.prod(shape[:j])), shape[j]
        b = int(np.prod(shape[j + 1 :]))
        core = tl.reshape(core, (a, n, b))
        k = None
        if not exact and n * WIDE <= a * b:
            lam, vecs = tl.eigh(_mode_gram(core, n))
            lam = np.clip(tl.to_numpy(lam).astype(np.float64)[::-1], 0.0, None)
            k = gram_rank(lam, caps[node], budget, eps)
        if k is not None and k == n:
            u = None  # nothing to truncate: the identity basis, no pass over the core
        elif k is not None:
            u = tl.flip(vecs[:, n - k :], axis=1)
            core = _project_mode(core, u)
        else:
            matrix = tl.reshape(tl.transpose(core, (1, 0, 2)), (n, a * b))
            u, w, _, _ = truncated_left_svd(matrix, caps[node], budget, route="qr")
            k = tl.shape(u)[1]
            core = tl.transpose(tl.reshape(w, (k, a, b)), (1, 0, 2))
        # the identity written by numpy and converted: jax's eye dispatches a compiled op
        factors[node] = tl.tensor(np.eye(n), **tl.context(core)) if u is None else u
        shape[j] = k
    core = tl.reshape(core, tuple(shape))
    dims = shape
    axes = [tree.leaf(m) for m in tree.mode_order]
    for node in tree.internal_nodes[:-1]:
        left, right = tree.children(node)
        i = axes.index(left)
        perm = [i, i + 1] + [j for j in range(len(axes)) if j not in (i, i + 1)]
        rl, rr = dims[i], dims[i + 1]
        matrix = tl.reshape(tl.transpose(core, perm), (rl * rr, -1))
        budget = None if node == last else delta2
        u, w, _, _ = truncated_left_svd(matrix, caps[node], budget, route="qr" if exact else "auto")
        k = tl.shape(u)[1]
        factors[node] = tl.reshape(u, (rl, rr, k))
        axes[i : i + 2] = [node]
        dims[i : i + 2] = [k]
        others = dims[:i] + dims[i + 1 :]
        core = tl.reshape(w, (k, *others))
        core = tl.transpose(core, list(range(1, i + 1)) + [0] + list(range(i + 1, len(dims))))
    factors[tree.root] = tl.reshape(core, (dims[0], dims[1], 1))
    flat = tl.reshape(core, (-1,))
    return HTTensor(factors, tree), float(tl.to_numpy(tl.dot(flat, flat)))


def _reduced_gramian_factors(ht: HTTensor):
    """Top-down singular values and vectors of every node's matricization, in frame coordinates.

    ``ht`` must be orthogonalized. Returns, per non-root node, ``(U, s)`` with ``U`` the left
    singular vectors and ``s`` the singular values of the matricization of the tensor at that
    node (the square roots of the reduced Gramian's eigenvalues, computed without squaring).
    """
    tree = ht.tree
    root_rank = ht.ranks[tree.root]
    out: list = [None] * tree.n_nodes
    # F_t F_t^T = reduced Gramian of node t; F_root = identity of the root (output) mode
    roots = tl.eye(root_rank, **tl.context(ht.factors[tree.root]))
    sqrt_gram = {tree.root: roots}
    for node in reversed(tree.internal_nodes):
        b = ht.factors[node]
        rl, rr, _ = tl.shape(b)
        m = tl.einsum("abc,cd->abd", b, sqrt_gram.pop(node))
        mt = tl.shape(m)[2]
        for child, mat in (
            (tree.children(node)[0], tl.reshape(m, (rl, rr * mt))),
            (tree.children(node)[1], tl.reshape(tl.transpose(m, (1, 0, 2)), (rr, rl * mt))),
        ):
            u, s, _ = tl.svd(mat, full_matrices=False)
            out[child] = (u, s)
            if not tree.is_leaf(child):
                sqrt_gram[child] = u * tl.reshape(s, (1, -1))
    return out


def ht_round(
    ht: HTTensor, rank: int | Sequence[int] | None = None, tol: float | None = None
) -> HTTensor:
    """Recompress an HT tensor on its factors: orthogonalize, reduced Gramians, truncate.

    All truncations are computed from the singular values of the tensor's own matricizations
    (root to leaves, from the orthogonalized factors, never the full tensor), then applied at
    once. Level by level the projections commute, so ``||ht - result||^2`` is at most the sum
    of the squared discarded parts; each gets ``delta = tol * ||ht|| / sqrt(m)`` with
    ``m = 2 d - 3`` (root rank 1: the root's children share one matricization and one rank) or
    ``m = 2 d - 2`` (root rank C > 1). Hence ``||ht - result|| <= tol * ||ht||``.

    Parameters
    ----------
    ht : HTTensor
    rank : int, list of ints (one per tree node, post-order, root entry = root rank), or None
        Rank caps.
    tol : float in (0, 1) or None
        Relative Frobenius error target; with both None only exact rank reductions happen.

    Returns
    -------
    HTTensor
        Orthonormal frames below the root.

    References
    ----------
    L. Grasedyck. Hierarchical singular value decomposition of tensors. SIAM J. Matrix Anal.
    Appl. 31(4):2029-2054, 2010 (Algorithm 3 and Theorem 3.11).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import DimensionTree, HTTensor, ht_round
    >>> tree = DimensionTree.balanced(2)
    >>> ht = HTTensor([np.ones((3, 2)), np.ones((4, 2)), np.ones((2, 2, 1))], tree)
    >>> ht_round(ht, tol=1e-10).ranks
    (1, 1, 1)
    """
    ht = check_ht(ht)
    tol = check_tol(tol)
    tree = ht.tree
    root_rank = ht.ranks[tree.root]
    caps = check_ht_rank(rank, tree, root_rank)
    if tree.d == 1:
        return ht_orthogonalize(ht)
    orth = ht_orthogonalize(ht)
    root = orth.factors[tree.root]
    norm2 = float(tl.to_numpy(tl.sum(root * root)))
    if not np.isfinite(norm2):
        raise ValueError("ht must contain only finite values (no NaN or inf)")
    n_terms = 2 * tree.d - 3 if root_rank == 1 else 2 * tree.d - 2
    delta2 = None if tol is None else tol**2 * norm2 / n_terms
    svds = _reduced_gramian_factors(orth)
    keep = [None] * tree.n_nodes
    for node in range(tree.n_nodes - 1):
        s2 = tl.to_numpy(svds[node][1]).astype(np.float64) ** 2
        keep[node] = rank_from_singular_values(s2, caps[node], delta2)
    if root_rank == 1:
        left, right = tree.children(tree.root)
        keep[left] = keep[right] = min(keep[left], keep[right])
    bases = [svds[node][0][:, : keep[node]] for node in range(tree.n_nodes - 1)]
    factors = []
    for node in range(tree.n_nodes):
        children = tree.children(node)
        factor = orth.factors[node]
        if children is None:
            factors.append(tl.dot(factor, bases[node]))
            continue
        sl, sr = bases[children[0]], bases[children[1]]
        factor = contract_children(factor, sl, sr)
        if node != tree.root:
            i, j, c = tl.shape(factor)
            factor = tl.reshape(tl.dot(tl.reshape(factor, (i * j, c)), bases[node]), (i, j, -1))
        factors.append(factor)
    return HTTensor(factors, tree)


def _check_interval_tree(tree: DimensionTree, what: str) -> None:
    if tree.mode_order != tuple(range(tree.d)):
        raise ValueError(
            f"{what} needs a tree whose leaves read 0..d-1 from left to right (TT mode order), "
            f"got a tree with mode order {tree.mode_order}"
        )


def tt_to_ht(tt, tree: DimensionTree | None = None, tol: float | None = None) -> HTTensor:
    """Exact HT representation of a TT tensor (then rounded with ``tol`` if given).

    A node over the modes ``i..j-1`` gets the frame of the TT segment ``G_i ... G_{j-1}`` with
    both bonds open, so its rank is ``r_i r_j`` (docs/theory.md 5.2: at most ``r^2``); the transfer
    tensors only join the shared bond. ``tol`` calls :func:`ht_round` on the result.

    Parameters
    ----------
    tt : TTTensor or list of cores
    tree : DimensionTree or None
        Tree with leaves 0..d-1 from left to right; default ``DimensionTree.balanced(d)``.
    tol : float in (0, 1) or None

    Returns
    -------
    HTTensor

    References
    ----------
    L. Grasedyck. Hierarchical singular value decomposition of tensors. SIAM J. Matrix Anal.
    Appl. 31(4):2029-2054, 2010. V. Khrulkov, A. Novikov, I. Oseledets. Expressive power of
    recurrent neural networks. ICLR 2018 (Table 2).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorly.tt_tensor import TTTensor
    >>> from tensorexpr import tt_to_ht
    >>> rng = np.random.default_rng(0)
    >>> tt = TTTensor([rng.random((1, 2, 2)), rng.random((2, 2, 2)), rng.random((2, 2, 2)),
    ...                rng.random((2, 2, 1))])
    >>> ht = tt_to_ht(tt)
    >>> ht.ranks
    (2, 4, 2, 4, 2, 2, 1)
    >>> bool(np.allclose(ht.to_tensor(), tt.to_tensor()))
    True
    """
    tt = check_tt(tt)
    cores = list(tt.factors)
    d = len(cores)
    if d < 2:
        raise ValueError(f"tt must have at least 2 cores for an HT tensor, got {d}")
    tree = check_tree(tree, d)
    _check_interval_tree(tree, "tt_to_ht")
    tol = check_tol(tol)
    ranks = tt.rank
    ctx = tl.context(cores[0])
    factors: list = [None] * tree.n_nodes
    for node in range(tree.n_nodes):
        modes = tree.modes(node)
        i, j = modes[0], modes[-1] + 1
        children = tree.children(node)
        if children is None:
            r0, n, r1 = tl.shape(cores[i])
            # U[x, (a, b)] = G_i[a, x, b]
            factors[node] = tl.reshape(tl.transpose(cores[i], (1, 0, 2)), (n, r0 * r1))
            continue
        m = tree.modes(children[1])[0]
        ri, rm, rj = ranks[i], ranks[m], ranks[j]
        # B[(a, b), (b', c), (a', c')] = delta(a, a') delta(b, b') delta(c, c'): a constant
        # 0/1 pattern, written in numpy by index (an einsum of four identities is slow there)
        b = np.zeros((ri, rm, rm, rj, ri, rj))
        a_, b_, c_ = np.meshgrid(np.arange(ri), np.arange(rm), np.arange(rj), indexing="ij")
        b[a_, b_, b_, c_, a_, c_] = 1.0
        factors[node] = tl.tensor(b.reshape(ri * rm, rm * rj, ri * rj), **ctx)
    ht = HTTensor(factors, tree)
    return ht if tol is None else ht_round(ht, tol=tol)


def ht_to_tt(ht: HTTensor, tol: float | None = None) -> TTTensor:
    """Exact TT representation of an HT tensor (then rounded with ``tol`` if given).

    Built subtree by subtree: the TT of a node is its left child's TT followed by its right
    child's TT, whose bonds also carry the left child's rank until the transfer tensor closes
    it. Ranks are products of node ranks along the tree (docs/theory.md 5.2: the minimal TT ranks of
    an HT tensor of rank r can reach ``r^(log2(d)/2)``); ``tol`` calls :func:`tt_round`.

    Parameters
    ----------
    ht : HTTensor
        Root rank 1, tree with leaves 0..d-1 from left to right.
    tol : float in (0, 1) or None

    Returns
    -------
    TTTensor

    References
    ----------
    L. Grasedyck. Hierarchical singular value decomposition of tensors. SIAM J. Matrix Anal.
    Appl. 31(4):2029-2054, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import DimensionTree, HTTensor, ht_to_tt
    >>> tree = DimensionTree.balanced(2)
    >>> ht = HTTensor([np.ones((3, 2)), np.ones((4, 2)), np.ones((2, 2, 1))], tree)
    >>> tt = ht_to_tt(ht)
    >>> tt.rank
    (1, 2, 1)
    >>> bool(np.allclose(tt.to_tensor(), ht.to_tensor()))
    True
    """
    ht = check_ht(ht)
    tree = ht.tree
    if ht.ranks[tree.root] != 1:
        raise ValueError(f"ht must have root rank 1 for a TTTensor, got {ht.ranks[tree.root]}")
    _check_interval_tree(tree, "ht_to_tt")
    tol = check_tol(tol)
    ctx = tl.context(ht.factors[0])
    trains: list = [None] * tree.n_nodes
    for node in range(tree.n_nodes):
        children = tree.children(node)
        factor = ht.factors[node]
        if children is None:
            n, r = tl.shape(factor)
            trains[node] = [tl.reshape(factor, (1, n, r))]
            continue
        left, right = (trains[c] for c in children)
        trains[children[0]] = trains[children[1]] = None
        rl = tl.shape(left[-1])[2]
        eye = tl.eye(rl, **ctx)
        carried = []
        for core in right[:-1]:
            a, n, b = tl.shape(core)
            carried.append(tl.reshape(tl.einsum("ij,xny->ixnjy", eye, core), (rl * a, n, rl * b)))
        a, n, _ = tl.shape(right[-1])
        last = tl.einsum("xnb,abc->axnc", right[-1], factor)
        carried.append(tl.reshape(last, (rl * a, n, tl.shape(factor)[2])))
        trains[node] = left + carried
    tt = TTTensor(trains[tree.root])
    return tt if tol is None else tt_round(tt, tol=tol)


class HTSVD(TransformerMixin, BaseEstimator):
    """HT decomposition by the hierarchical SVD, as a scikit-learn style transformer.

    A thin wrapper of :func:`ht_svd`.

    Parameters
    ----------
    tree : DimensionTree or None
        Dimension tree; default balanced.
    rank : int, list of ints, or None
        Rank caps.
    tol : float in (0, 1) or None
        Relative error target.

    Attributes
    ----------
    decomposition_ : HTTensor
        The decomposition of the last tensor fitted.

    See Also
    --------
    ht_svd : the function doing the work.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import HTSVD
    >>> HTSVD(tol=1e-6).fit_transform(np.ones((2, 3, 4, 5))).ranks
    (1, 1, 1, 1, 1, 1, 1)
    """

    def __init__(self, tree=None, rank=None, tol=None):
        self.tree = tree
        self.rank = rank
        self.tol = tol

    def fit(self, tensor, y=None):
        """Decompose ``tensor``; store the result in ``decomposition_``; return self."""
        self.decomposition_ = ht_svd(tensor, tree=self.tree, rank=self.rank, tol=self.tol)
        return self

    def fit_transform(self, tensor, y=None) -> HTTensor:
        """Decompose ``tensor`` and return the HTTensor."""
        return self.fit(tensor).decomposition_
