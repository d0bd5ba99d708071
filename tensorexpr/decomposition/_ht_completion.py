"""HT and CP completion: alternating least squares over the factors on the observed entries."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorly as tl
from tensorly.cp_tensor import CPTensor

from .._deprecation import DEPRECATED, renamed_value
from ..ht_tensor import HTTensor
from ..trees import DimensionTree, check_tree
from ..validation import check_positive_int
from ._common import check_ht_rank
from ._completion import (
    CompletionResult,
    check_completion_args,
    fit_completion,
    observed_entries,
    solve_ridge,
    solve_slices,
)

__all__ = ["ht_complete", "cp_complete", "HTModel", "CPModel"]


def _kron_rows(*mats):
    """Row-wise Kronecker product of (N, a), (N, b), ... -> (N, a b ...), C order."""
    out = mats[0]
    for m in mats[1:]:
        out = (out[:, :, None] * m[:, None, :]).reshape(len(out), -1)
    return out


class HTModel:
    """HT factors (leaf bases, transfer tensors) in numpy float64, fitted by ALS on samples.

    The entry at a sample is linear in each factor: a leaf's row ``U[i, :]`` meets the
    sample's *outer* vector (everything above and beside the leaf), a transfer tensor meets the
    Kronecker product of its children's frame rows and its outer vector. A sweep visits the
    nodes in post-order; each leaf is solved slice by slice (an ``r``-sized solve per index),
    each transfer tensor by one ridge least-squares problem of ``r_l r_r r_t`` unknowns over all
    samples. Before a node is solved the orthogonality centre moves to it (QR steps along the
    tree path, as in the TT sweep): every other factor is orthonormal towards it, so its frames
    and outer vector are orthonormal bases of the full tensor and the local problem is as well
    conditioned as the sampling allows. Without this gauge (the centre at the root) the outer
    vectors carry the decay of the singular values, the normal equations square it, and the
    training error of an exact rank-3 HT tensor stalled near 5e-8 (docs/completion.md).
    """

    def __init__(self, shape, tree: DimensionTree, ranks: list[int], caps: list[int]):
        self.shape, self.tree = tuple(shape), tree
        self.rank_list, self.caps = list(ranks), caps
        self.factors: list[np.ndarray] = []
        self.center = tree.root  # the node that is not orthonormal (the gauge)

    @property
    def ranks(self) -> tuple[int, ...]:
        return tuple(self.rank_list)

    @property
    def n_params(self) -> int:
        tree, r = self.tree, self.rank_list
        total = 0
        for node in range(tree.n_nodes):
            ch = tree.children(node)
            size = self.shape[tree.modes(node)[0]] if ch is None else r[ch[0]] * r[ch[1]]
            total += size * r[node]
        return total - sum(r[node] ** 2 for node in range(tree.n_nodes - 1))

    def init(self, data, rng) -> None:
        tree, r = self.tree, self.rank_list
        self.factors = []
        for node in range(tree.n_nodes):
            ch = tree.children(node)
            if ch is None:
                f = rng.standard_normal((self.shape[tree.modes(node)[0]], r[node]))
                f[:, 0] = 1.0  # the constant tensor first, as TTModel
            else:
                f = rng.standard_normal((r[ch[0]], r[ch[1]], r[node])) / np.sqrt(r[ch[0]])
                f[0, 0, 0] = 1.0
                f[0, 0, 1:] = 0.0
            self.factors.append(f)
        self._orthogonalize()

    def _push(self, node: int, rr: np.ndarray) -> None:
        parent = self.tree.parent(node)
        if self.tree.children(parent)[0] == node:
            self.factors[parent] = np.einsum("ma,abc->mbc", rr, self.factors[parent])
        else:
            self.factors[parent] = np.einsum("mb,abc->amc", rr, self.factors[parent])

    def _orthonormalize(self, node: int) -> None:
        f = self.factors[node]
        q, rr = np.linalg.qr(f.reshape(-1, f.shape[-1]))
        self.factors[node] = q.reshape(*f.shape[:-1], q.shape[1])
        self.rank_list[node] = q.shape[1]
        self._push(node, rr)

    def _orthogonalize(self) -> None:
        for node in range(self.tree.n_nodes - 1):
            self._orthonormalize(node)
        self.center = self.tree.root

    def _move_down(self, child: int) -> None:
        """Move the centre from ``child``'s parent to ``child``: QR of the parent's transfer
        tensor unfolded with the child's axis as columns, the triangular factor into the child."""
        parent = self.tree.parent(child)
        b = self.factors[parent]
        axes = (1, 2, 0) if self.tree.children(parent)[0] == child else (0, 2, 1)
        moved = b.transpose(axes)
        q, rr = np.linalg.qr(moved.reshape(-1, moved.shape[-1]))
        q = q.reshape(*moved.shape[:-1], q.shape[1])
        self.factors[parent] = q.transpose(np.argsort(axes))
        self.factors[child] = np.tensordot(self.factors[child], rr, axes=([-1], [1]))
        self.rank_list[child] = q.shape[-1]

    def _path(self, node: int) -> list[int]:
        path = [node]
        while path[-1] != self.tree.root:
            path.append(self.tree.parent(path[-1]))
        return path

    def _move_center(self, node: int, idx: np.ndarray, frames: list) -> None:
        """Move the orthogonality centre to ``node`` along the tree path; the frames of the
        nodes whose factor changed are recomputed (their parents' frames do not change)."""
        up, down = self._path(self.center), self._path(node)
        common = set(up) & set(down)
        for child in up[: next(i for i, v in enumerate(up) if v in common)]:
            self._orthonormalize(child)
            frames[child] = self._frame(child, idx, frames)
        for child in reversed(down[: next(i for i, v in enumerate(down) if v in common)]):
            self._move_down(child)
            frames[child] = self._frame(child, idx, frames)
        self.center = node

    def _frame(self, node: int, idx: np.ndarray, frames: list) -> np.ndarray:
        ch = self.tree.children(node)
        f = self.factors[node]
        if ch is None:
            return f[idx[:, self.tree.modes(node)[0]]]
        return _kron_rows(frames[ch[0]], frames[ch[1]]) @ f.reshape(-1, f.shape[-1])

    def _frames(self, idx: np.ndarray) -> list:
        frames: list = [None] * self.tree.n_nodes
        for node in range(self.tree.n_nodes):
            frames[node] = self._frame(node, idx, frames)
        return frames

    def predict(self, indices: np.ndarray) -> np.ndarray:
        return self._frames(indices)[self.tree.root][:, 0]

    def _outer(self, node: int, frames: list, m: int) -> np.ndarray:
        """The sample's vector of everything outside ``node`` (root: ones), top-down."""
        path = self._path(node)
        outer = np.ones((m, 1))
        for parent, child in zip(path[:0:-1], path[-2::-1], strict=True):
            b = self.factors[parent]
            left, right = self.tree.children(parent)
            if child == left:
                w = _kron_rows(frames[right], outer)  # (m, r_r r_t)
                outer = w @ b.transpose(1, 2, 0).reshape(-1, b.shape[0])
            else:
                w = _kron_rows(frames[left], outer)
                outer = w @ b.transpose(0, 2, 1).reshape(-1, b.shape[1])
        return outer

    def sweep(self, data, regularization: float) -> None:
        idx, y, groups = data
        tree, m = self.tree, len(y)
        frames = self._frames(idx)
        for node in range(tree.n_nodes):
            self._move_center(node, idx, frames)
            outer = self._outer(node, frames, m)
            ch = tree.children(node)
            if ch is None:
                mode = tree.modes(node)[0]
                self.factors[node] = solve_slices(outer, y, groups[mode], regularization)
            else:
                design = _kron_rows(frames[ch[0]], frames[ch[1]], outer)
                sol = solve_ridge(design.T @ design, design.T @ y, regularization)
                self.factors[node] = sol.reshape(self.factors[node].shape)
            frames[node] = self._frame(node, idx, frames)

    def grow(self, rng) -> bool:
        """Every node below its cap grows by one: a random new column of its own factor, a zero
        new slice in its parent's transfer tensor (the tensor is unchanged)."""
        tree, grown = self.tree, False
        for node in range(tree.n_nodes - 1):
            ch = tree.children(node)
            cap = self.caps[node]
            if ch is not None:
                cap = min(cap, self.rank_list[ch[0]] * self.rank_list[ch[1]])
            if self.rank_list[node] >= cap:
                continue
            f = self.factors[node]
            new = rng.standard_normal((*f.shape[:-1], 1))
            self.factors[node] = np.concatenate([f, new / np.linalg.norm(new)], axis=-1)
            parent = self.factors[tree.parent(node)]
            axis = 0 if tree.children(tree.parent(node))[0] == node else 1
            pad = [(0, 0)] * 3
            pad[axis] = (0, 1)
            self.factors[tree.parent(node)] = np.pad(parent, pad)
            self.rank_list[node] += 1
            grown = True
        if grown:
            self._orthogonalize()
        return grown

    def to_tensor(self, ctx) -> HTTensor:
        return HTTensor([tl.tensor(f, **ctx) for f in self.factors], self.tree)


def _ht_caps(shape, tree: DimensionTree, max_rank: int | None) -> list[int]:
    total = int(np.prod(shape, dtype=object))
    caps = []
    for node in range(tree.n_nodes):
        inside = int(np.prod([shape[k] for k in tree.modes(node)], dtype=object))
        cap = min(inside, total // inside)
        caps.append(cap if max_rank is None else min(cap, max_rank))
    caps[tree.root] = 1
    return caps


class CPModel:
    """CP factors in numpy float64, fitted by ALS on samples: the rows of factor ``k`` with
    index ``i`` are the ridge least-squares fit of the samples in slice ``i``, the other
    factors' rows multiplied elementwise (an ``R``-sized solve per slice)."""

    def __init__(self, shape, rank: int, cap: int):
        self.shape, self.rank, self.cap = tuple(shape), rank, cap
        self.factors: list[np.ndarray] = []

    @property
    def ranks(self) -> int:
        return self.rank

    @property
    def n_params(self) -> int:
        return self.rank * (sum(self.shape) - len(self.shape) + 1)

    def init(self, data, rng) -> None:
        self.factors = []
        for n in self.shape:
            f = rng.standard_normal((n, self.rank))
            f[:, 0] = 1.0
            self.factors.append(f)

    def predict(self, indices: np.ndarray) -> np.ndarray:
        prod = np.ones((len(indices), self.rank))
        for k, f in enumerate(self.factors):
            prod = prod * f[indices[:, k]]
        return prod.sum(axis=1)

    def sweep(self, data, regularization: float) -> None:
        idx, y, groups = data
        for k in range(len(self.shape)):
            other = np.ones((len(y), self.rank))
            for j, f in enumerate(self.factors):
                if j != k:
                    other = other * f[idx[:, j]]
            self.factors[k] = solve_slices(other, y, groups[k], regularization)
            if k < len(self.shape) - 1:
                # unit columns outside the mode solved next keep the solves well scaled
                norms = np.linalg.norm(self.factors[k], axis=0)
                norms[norms == 0] = 1.0
                self.factors[k] = self.factors[k] / norms
                self.factors[k + 1] = self.factors[k + 1] * norms

    def grow(self, rng) -> bool:
        """One more rank-one term: random columns, zero in the first factor (solved first, so
        the term enters at once; the tensor is unchanged)."""
        if self.rank >= self.cap:
            return False
        for k, n in enumerate(self.shape):
            col = np.zeros((n, 1)) if k == 0 else rng.standard_normal((n, 1))
            self.factors[k] = np.concatenate([self.factors[k], col], axis=1)
        self.rank += 1
        return True

    def to_tensor(self, ctx) -> CPTensor:
        norms = [np.linalg.norm(f, axis=0) for f in self.factors]
        weights = np.prod(norms, axis=0)
        factors = [
            f / np.where(nm == 0, 1.0, nm) for f, nm in zip(self.factors, norms, strict=True)
        ]
        return CPTensor((tl.tensor(weights, **ctx), [tl.tensor(f, **ctx) for f in factors]))


def ht_complete(
    indices_or_tensor,
    values=None,
    shape: Sequence[int] | None = None,
    *,
    mask=None,
    tree: DimensionTree | None = None,
    rank: int | Sequence[int] | None = None,
    tol: float | None = None,
    max_rank: int | None = None,
    validation_fraction: float = 0.1,
    regularization: float = 1e-13,
    max_iter: int = 50,
    refit: bool = True,
    random_state=None,
    verbose: int = 0,
    n_iter_max=DEPRECATED,
) -> CompletionResult:
    """HT completion on any dimension tree: ALS over the tree's nodes on the observed entries.

    The calling convention, the validation split, the rank growth and the stopping rules are
    those of :func:`~tensorexpr.tt_complete`; the sweeps are over the nodes of ``tree``
    (:class:`HTModel`): leaves slice by slice, transfer tensors by one least-squares problem
    each. Growth adds one to every node's rank (within ``min(prod of its mode sizes, prod of
    the others)`` and ``r_left r_right``). Computed in numpy float64; the factors come back on
    the current backend in the dtype of the values.

    Parameters
    ----------
    indices_or_tensor, values, shape, mask
        The observed entries, as in :func:`~tensorexpr.tt_complete`.
    tree : DimensionTree or None
        Default ``DimensionTree.balanced(d)``.
    rank : int, list of ints (one per tree node, post-order, root entry 1), or None
        Fixed ranks; None grows them from 1.
    tol : float in (0, 1) or None
        Target relative error on the validation entries.
    max_rank : int or None
        Cap on every rank during growth.
    validation_fraction : float in [0, 1), default 0.1
    regularization : float >= 0, default 1e-13
    max_iter : int, default 50
        Most sweeps per rank.
    refit : bool, default True
    random_state : None, int or numpy Generator
    verbose : int, default 0
        0: silent; >= 1: one line per sweep.
    n_iter_max : deprecated
        The old name of ``max_iter`` (a FutureWarning; removed in 0.3).

    Returns
    -------
    CompletionResult
        ``result.tensor`` is an :class:`~tensorexpr.HTTensor`.

    References
    ----------
    L. Grasedyck, M. Kluge, S. Kraemer. Variants of alternating least squares tensor completion
    in the tensor train format. SIAM J. Sci. Comput. 37(5):A2424-A2450, 2015 (the TT case;
    the same ALS over the nodes of a dimension tree). L. Grasedyck. Hierarchical singular
    value decomposition of tensors. SIAM J. Matrix Anal. Appl. 31(4):2029-2054, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> rng = np.random.default_rng(0)
    >>> full = np.einsum("i,j,k,l->ijkl", *rng.random((4, 5)))
    >>> res = te.ht_complete(full, mask=rng.random(full.shape) < 0.4, tol=1e-8, random_state=0)
    >>> res.converged, res.ranks
    (True, (1, 1, 1, 1, 1, 1, 1))
    """
    max_iter = renamed_value("ht_complete", "n_iter_max", n_iter_max, "max_iter", max_iter)
    entries = observed_entries(indices_or_tensor, values, shape, mask)
    validation_fraction, regularization, max_iter, tol, max_rank = check_completion_args(
        validation_fraction, regularization, max_iter, tol, max_rank
    )
    tree = check_tree(tree, len(entries.shape))
    caps = _ht_caps(entries.shape, tree, max_rank)
    if rank is None:
        ranks = [1] * tree.n_nodes
    else:
        full_caps = _ht_caps(entries.shape, tree, None)
        ranks = [min(r, c) for r, c in zip(check_ht_rank(rank, tree), full_caps, strict=True)]
    model = HTModel(entries.shape, tree, ranks, caps)
    return fit_completion(
        model,
        entries,
        name="ht_complete",
        grow=rank is None,
        tol=tol,
        validation_fraction=validation_fraction,
        regularization=regularization,
        max_iter=max_iter,
        refit=refit,
        rng=random_state,
        verbose=verbose,
    )


def cp_complete(
    indices_or_tensor,
    values=None,
    shape: Sequence[int] | None = None,
    *,
    mask=None,
    rank: int | None = None,
    tol: float | None = None,
    max_rank: int | None = None,
    validation_fraction: float = 0.1,
    regularization: float = 1e-13,
    max_iter: int = 100,
    refit: bool = True,
    random_state=None,
    verbose: int = 0,
    n_iter_max=DEPRECATED,
) -> CompletionResult:
    """CP completion: ALS over the factors on the observed entries, rank grown by one term.

    The calling convention, the validation split, the rank growth and the stopping rules are
    those of :func:`~tensorexpr.tt_complete` (:class:`CPModel`: each factor row is a ridge
    least-squares fit of the samples in its slice). Unlike tensorly's masked ``parafac``,
    which imputes the missing entries at every iteration and so works on the dense tensor,
    only the observed entries are touched. Computed in numpy float64; the result comes back
    on the current backend in the dtype of the values.

    Parameters
    ----------
    indices_or_tensor, values, shape, mask
        The observed entries, as in :func:`~tensorexpr.tt_complete`.
    rank : int or None
        Fixed CP rank; None grows it from 1.
    tol : float in (0, 1) or None
    max_rank : int or None
    validation_fraction : float in [0, 1), default 0.1
    regularization : float >= 0, default 1e-13
    max_iter : int, default 100
        Most sweeps per rank.
    refit : bool, default True
    random_state : None, int or numpy Generator
    verbose : int, default 0
        0: silent; >= 1: one line per sweep.
    n_iter_max : deprecated
        The old name of ``max_iter`` (a FutureWarning; removed in 0.3).

    Returns
    -------
    CompletionResult
        ``result.tensor`` is a ``tensorly.cp_tensor.CPTensor`` (unit-norm factor columns).

    References
    ----------
    G. Tomasi, R. Bro. PARAFAC and missing values. Chemometr. Intell. Lab. Syst.
    75(2):163-180, 2005.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.random((2, 8))
    >>> full = np.einsum("i,j,k->ijk", a, a, a) + np.einsum("i,j,k->ijk", b, b, b)
    >>> res = te.cp_complete(full, mask=rng.random(full.shape) < 0.5, rank=2, tol=1e-8,
    ...                      random_state=0)
    >>> bool(np.linalg.norm(res.tensor.to_tensor() - full) < 1e-6 * np.linalg.norm(full))
    True
    """
    max_iter = renamed_value("cp_complete", "n_iter_max", n_iter_max, "max_iter", max_iter)
    entries = observed_entries(indices_or_tensor, values, shape, mask)
    validation_fraction, regularization, max_iter, tol, max_rank = check_completion_args(
        validation_fraction, regularization, max_iter, tol, max_rank
    )
    cap = int(np.prod(entries.shape, dtype=object)) // max(entries.shape)
    cap = cap if max_rank is None else min(cap, max_rank)
    start = 1 if rank is None else check_positive_int(rank, "rank")
    model = CPModel(entries.shape, start, max(cap, start))
    return fit_completion(
        model,
        entries,
        name="cp_complete",
        grow=rank is None,
        tol=tol,
        validation_fraction=validation_fraction,
        regularization=regularization,
        max_iter=max_iter,
        refit=refit,
        rng=random_state,
        verbose=verbose,
    )
