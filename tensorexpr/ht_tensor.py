"""The Hierarchical Tucker (HT) format: a factorized tensor in TensorLy's style.

An HT tensor over a :class:`~tensorexpr.DimensionTree` stores one factor per tree
node, in the tree's post-order:

- leaf of mode k: a basis matrix ``U_k`` of shape ``(n_k, r_k)``;
- internal node t with children (l, r): a transfer tensor ``B_t`` of shape
  ``(r_l, r_r, r_t)``, so that ``U_t[(i_l, i_r), c] = sum_ab U_l[i_l, a] U_r[i_r, b] B_t[a, b, c]``.

The root rank is 1 for an ordinary tensor; a root rank C > 1 adds a trailing
mode of size C (the C outputs of a network, docs/theory.md section 1).

References
----------
W. Hackbusch, S. Kuehn. A new scheme for the tensor representation. J. Fourier Anal. Appl. 2009.
L. Grasedyck. Hierarchical singular value decomposition of tensors. SIAM J. Matrix Anal. Appl. 2010.
"""

from __future__ import annotations

import numpy as np
import tensorly as tl

from .trees import DimensionTree

__all__ = [
    "HTTensor",
    "ht_to_tensor",
    "ht_norm",
    "ht_inner",
    "ht_orthogonalize",
    "validate_ht_tensor",
]


def validate_ht_tensor(factors, tree) -> tuple[list, DimensionTree, tuple[int, ...]]:
    """Check factors against a tree; returns (factors, tree, ranks)."""
    if not isinstance(tree, DimensionTree):
        raise TypeError(f"tree must be a DimensionTree, got {type(tree).__name__}")
    factors = list(factors)
    if len(factors) != tree.n_nodes:
        raise ValueError(
            f"factors must have one entry per tree node ({tree.n_nodes} for d={tree.d}), "
            f"got {len(factors)}"
        )
    ranks = [0] * tree.n_nodes
    for node, factor in enumerate(factors):
        shape = tuple(tl.shape(factor))
        children = tree.children(node)
        if children is None:
            if len(shape) != 2:
                raise ValueError(
                    f"factors[{node}] (leaf of mode {tree.modes(node)[0]}) must be a matrix "
                    f"(n, r), got shape {shape}"
                )
        else:
            if len(shape) != 3:
                raise ValueError(
                    f"factors[{node}] (transfer tensor) must have shape (r_left, r_right, r), "
                    f"got {shape}"
                )
            left, right = children
            if shape[:2] != (ranks[left], ranks[right]):
                raise ValueError(
                    f"factors[{node}] has shape {shape}, its children have ranks "
                    f"({ranks[left]}, {ranks[right]})"
                )
        ranks[node] = shape[-1]
        if min(shape) < 1:
            raise ValueError(f"factors[{node}] has an empty dimension: shape {shape}")
    return factors, tree, tuple(ranks)


class HTTensor:
    """A tensor in Hierarchical Tucker format.

    Parameters
    ----------
    factors : list of tensors
        One factor per node of ``tree``, in the tree's post-order (see module doc).
    tree : DimensionTree
        The dimension tree.

    Attributes
    ----------
    factors : list
    tree : DimensionTree
    ranks : tuple of int
        Rank of every node (the last entry is the root rank).
    shape : tuple of int
        Mode sizes, plus the root rank when it is larger than 1.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import DimensionTree, HTTensor
    >>> tree = DimensionTree.balanced(2)
    >>> ht = HTTensor([np.ones((3, 1)), np.ones((4, 1)), np.ones((1, 1, 1))], tree)
    >>> ht.shape, ht.ranks
    ((3, 4), (1, 1, 1))
    >>> float(ht.norm())
    3.4641016151377544
    """

    def __init__(self, factors, tree: DimensionTree):
        self.factors, self.tree, self.ranks = validate_ht_tensor(factors, tree)
        mode_sizes = tuple(tl.shape(self.factors[tree.leaf(k)])[0] for k in range(tree.d))
        root_rank = self.ranks[tree.root]
        self.shape = mode_sizes + ((root_rank,) if root_rank > 1 else ())

    def __getitem__(self, node):
        return self.factors[node]

    def __len__(self) -> int:
        return len(self.factors)

    def __iter__(self):
        return iter(self.factors)

    @property
    def n_params(self) -> int:
        """Number of stored entries over all factors."""
        return int(sum(np.prod(tl.shape(f)) for f in self.factors))

    def to_tensor(self):
        """The full tensor (``shape``)."""
        return ht_to_tensor(self)

    def norm(self):
        """Frobenius norm, from the factors only (no full tensor)."""
        return ht_norm(self)

    def inner(self, other: HTTensor):
        """Frobenius inner product with an HT tensor on the same tree."""
        return ht_inner(self, other)

    def orthogonalize(self) -> HTTensor:
        """The same tensor with orthonormal node frames (see :func:`ht_orthogonalize`)."""
        return ht_orthogonalize(self)

    def __repr__(self) -> str:
        return f"HTTensor(shape={self.shape}, ranks={self.ranks}, tree={self.tree.structure})"


def _node_matrices(ht: HTTensor):
    """U_t for every node, bottom-up; yields (node, matrix of shape (prod n, r_t))."""
    tree = ht.tree
    mats = [None] * tree.n_nodes
    for node in range(tree.n_nodes):
        children = tree.children(node)
        if children is None:
            mats[node] = ht.factors[node]
            continue
        left, right = children
        ul, ur, b = mats[left], mats[right], ht.factors[node]
        nl, nr = tl.shape(ul)[0], tl.shape(ur)[0]
        rl, rr, rt = tl.shape(b)
        # (n_l, r_l) x (r_l, r_r r_t) -> (n_l, r_r, r_t), then contract r_r with U_r
        tmp = tl.reshape(tl.dot(ul, tl.reshape(b, (rl, rr * rt))), (nl, rr, rt))
        tmp = tl.reshape(tl.transpose(tmp, (0, 2, 1)), (nl * rt, rr))
        full = tl.reshape(tl.dot(tmp, tl.transpose(ur)), (nl, rt, nr))
        mats[node] = tl.reshape(tl.transpose(full, (0, 2, 1)), (nl * nr, rt))
        mats[left] = mats[right] = None
    return mats[tree.root]


def ht_to_tensor(ht: HTTensor):
    """Full tensor of an HT tensor.

    Parameters
    ----------
    ht : HTTensor

    Returns
    -------
    tensor
        Of shape ``ht.shape``.
    """
    tree = ht.tree
    order = tree.mode_order
    sizes = [tl.shape(ht.factors[tree.leaf(k)])[0] for k in order]
    root_rank = ht.ranks[tree.root]
    full = tl.reshape(_node_matrices(ht), tuple(sizes) + (root_rank,))
    inverse = tuple(int(i) for i in np.argsort(order)) + (tree.d,)
    if inverse != tuple(range(tree.d + 1)):
        full = tl.transpose(full, inverse)
    if root_rank == 1:
        full = tl.reshape(full, tuple(tl.shape(full)[:-1]))
    return full


def _gram(ht_a: HTTensor, ht_b: HTTensor):
    """Gram matrices G_t = U_t(a)^T U_t(b), bottom-up; returns the root's."""
    tree = ht_a.tree
    grams = [None] * tree.n_nodes
    for node in range(tree.n_nodes):
        children = tree.children(node)
        fa, fb = ht_a.factors[node], ht_b.factors[node]
        if children is None:
            grams[node] = tl.dot(tl.transpose(fa), fb)
        else:
            gl, gr = grams[children[0]], grams[children[1]]
            grams[node] = tl.einsum("abc,ad,be,def->cf", fa, gl, gr, fb)
    return grams[tree.root]


def ht_inner(ht_a: HTTensor, ht_b: HTTensor):
    """Frobenius inner product of two HT tensors on the same tree, from the factors."""
    if ht_a.tree != ht_b.tree:
        raise ValueError("HT tensors must share the same tree for an inner product")
    if ht_a.shape != ht_b.shape:
        raise ValueError(f"HT tensors must have the same shape, got {ht_a.shape}, {ht_b.shape}")
    return tl.trace(_gram(ht_a, ht_b))


def ht_norm(ht: HTTensor):
    """Frobenius norm of an HT tensor, from the factors."""
    return tl.sqrt(tl.abs(ht_inner(ht, ht)))


def ht_orthogonalize(ht: HTTensor) -> HTTensor:
    """The same tensor with orthonormal frames at every node but the root.

    Leaves to root: each leaf basis, then each transfer tensor reshaped to ``(r_l r_r, r_t)``,
    is replaced by the Q of its QR factorisation and the R moves into the parent. Afterwards
    every implicit node matrix ``U_t`` (module doc) has orthonormal columns, and the norm of the
    tensor is the Frobenius norm of the root transfer tensor. A rank larger than its node can
    support (``r_t > n_t`` or ``r_t > r_l r_r``) shrinks; the tensor is unchanged.

    Parameters
    ----------
    ht : HTTensor

    Returns
    -------
    HTTensor
        A new HT tensor (the input is not modified).

    References
    ----------
    L. Grasedyck. Hierarchical singular value decomposition of tensors. SIAM J. Matrix Anal.
    Appl. 31(4):2029-2054, 2010 (Lemma 4.6, orthogonalisation).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import DimensionTree, HTTensor
    >>> tree = DimensionTree.balanced(2)
    >>> ht = HTTensor([2 * np.ones((3, 1)), np.ones((4, 1)), np.ones((1, 1, 1))], tree)
    >>> orth = ht.orthogonalize()
    >>> float(np.linalg.norm(orth[0]))
    1.0
    >>> bool(np.allclose(orth.to_tensor(), ht.to_tensor()))
    True
    """
    if not isinstance(ht, HTTensor):
        raise TypeError(f"ht must be an HTTensor, got {type(ht).__name__}")
    tree = ht.tree
    factors = list(ht.factors)
    for node in range(tree.n_nodes - 1):  # post-order: children before parents, root last
        children = tree.children(node)
        factor = factors[node]
        if children is None:
            q, r = tl.qr(factor)
        else:
            rl, rr, rt = tl.shape(factor)
            q, r = tl.qr(tl.reshape(factor, (rl * rr, rt)))
            q = tl.reshape(q, (rl, rr, tl.shape(q)[1]))
        factors[node] = q
        parent = tree.parent(node)
        spec = "ma,abc->mbc" if tree.children(parent)[0] == node else "mb,abc->amc"
        factors[parent] = tl.einsum(spec, r, factors[parent])
    return HTTensor(factors, tree)
