"""TT completion: alternating least squares over the TT cores on the observed entries."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorly as tl
from tensorly.tt_tensor import TTTensor

from .._deprecation import DEPRECATED, renamed_value
from ._common import check_tt_rank
from ._completion import (
    CompletionResult,
    check_completion_args,
    fit_completion,
    observed_entries,
    slice_groups,
    solve_slices,
)

__all__ = ["tt_complete", "TTModel"]


def _tt_caps(shape, max_rank: int | None) -> list[int]:
    """Largest useful rank of each bond: the smaller side of the unfolding (and max_rank)."""
    d = len(shape)
    caps = [1]
    for k in range(1, d):
        cap = min(int(np.prod(shape[:k], dtype=object)), int(np.prod(shape[k:], dtype=object)))
        caps.append(cap if max_rank is None else min(cap, max_rank))
    return caps + [1]


def _slice_products(vecs: np.ndarray, core: np.ndarray, groups, side: str) -> np.ndarray:
    """Per sample ``s`` with index ``i_s`` in this core's mode: ``vecs[s] @ core[:, i_s, :]``
    (``side="left"``) or ``core[:, i_s, :] @ vecs[s]`` (``"right"``).

    One matmul per slice ``i`` over the samples in it (``groups`` from ``slice_groups``),
    instead of an einsum over a gathered ``(r, N, r)`` copy of the core: 2-3.5x faster at rank
    8, 3.5-4.5x at rank 12, no gain at rank 4 (``benchmarks/bench_completion.py``, section 5).
    """
    order, starts = groups
    out = np.empty((len(vecs), core.shape[2] if side == "left" else core.shape[0]))
    for i in range(core.shape[1]):
        rows = order[starts[i] : starts[i + 1]]
        mat = core[:, i, :] if side == "left" else core[:, i, :].T
        out[rows] = vecs[rows] @ mat
    return out


class TTModel:
    """TT cores in numpy float64, fitted by ALS on samples (see :func:`tt_complete`).

    A sweep goes left to right, then right to left. At core ``k`` the other cores are
    orthonormal (left of ``k`` left-orthonormal, right of it right-orthonormal), so the entry
    at a sample ``s`` is ``l_s^T G_k[:, i_k(s), :] r_s`` with interface vectors ``l_s``,
    ``r_s`` of well-conditioned frames; the slice ``G_k[:, i, :]`` is the ridge least-squares
    fit of the samples with ``i_k(s) = i``, a ``(r_{k-1} r_k)``-sized solve per slice. The
    core then moves its non-orthogonal factor (QR) into the next one.
    """

    def __init__(self, shape, ranks: list[int], caps: list[int]):
        self.shape = tuple(shape)
        self.rank_list = list(ranks)
        self.caps = caps
        self.cores: list[np.ndarray] = []

    @property
    def ranks(self) -> tuple[int, ...]:
        return tuple(self.rank_list)

    @property
    def n_params(self) -> int:
        r, n = self.rank_list, self.shape
        total = sum(r[k] * n[k] * r[k + 1] for k in range(len(n)))
        return total - sum(x * x for x in r[1:-1])

    def init(self, data, rng) -> None:
        # the constant tensor in the first rank-1 direction (random ones beyond): a random
        # sign pattern starts ALS in a spurious local minimum, even at rank 1 (measured)
        r = self.rank_list
        self.cores = []
        for k, n in enumerate(self.shape):
            core = rng.standard_normal((r[k], n, r[k + 1])) / np.sqrt(r[k] * n)
            core[0, :, 0] = 1.0
            self.cores.append(core)
        self._right_orthogonalize()

    def _right_orthogonalize(self) -> None:
        cores = self.cores
        for k in range(len(cores) - 1, 0, -1):
            r0, n, r1 = cores[k].shape
            q, rr = np.linalg.qr(cores[k].reshape(r0, n * r1).T)
            cores[k] = q.T.reshape(q.shape[1], n, r1)
            cores[k - 1] = np.einsum("anb,cb->anc", cores[k - 1], rr)
        self.rank_list = [1] + [c.shape[2] for c in cores[:-1]] + [1]

    def predict(self, indices: np.ndarray) -> np.ndarray:
        vec = np.ones((len(indices), 1))
        for core, groups in zip(self.cores, slice_groups(indices, self.shape), strict=True):
            vec = _slice_products(vec, core, groups, "left")
        return vec[:, 0]

    def _solve_core(self, k, left, right, data, regularization) -> np.ndarray:
        idx, y, groups = data
        r0, n, r1 = self.cores[k].shape
        design = (left[:, :, None] * right[:, None, :]).reshape(len(y), r0 * r1)
        slices = solve_slices(design, y, groups[k], regularization)  # (n, r0 r1)
        return slices.reshape(n, r0, r1).transpose(1, 0, 2)

    def sweep(self, data, regularization: float) -> None:
        _, y, groups = data
        d, m = len(self.shape), len(y)
        cores = self.cores
        # right interfaces r_s for the cores 1..d-1 (right-orthonormal on entry)
        rights = [None] * (d + 1)
        rights[d] = np.ones((m, 1))
        for k in range(d - 1, 0, -1):
            rights[k] = _slice_products(rights[k + 1], cores[k], groups[k], "right")
        lefts = [np.ones((m, 1))]
        for k in range(d - 1):
            core = self._solve_core(k, lefts[k], rights[k + 1], data, regularization)
            r0, n, r1 = core.shape
            q, rr = np.linalg.qr(core.reshape(r0 * n, r1))
            cores[k] = q.reshape(r0, n, q.shape[1])
            cores[k + 1] = np.einsum("ab,bnc->anc", rr, cores[k + 1])
            lefts.append(_slice_products(lefts[k], cores[k], groups[k], "left"))
        right = np.ones((m, 1))
        for k in range(d - 1, 0, -1):
            core = self._solve_core(k, lefts[k], right, data, regularization)
            r0, n, r1 = core.shape
            q, rr = np.linalg.qr(core.reshape(r0, n * r1).T)
            cores[k] = q.T.reshape(q.shape[1], n, r1)
            cores[k - 1] = np.einsum("anb,cb->anc", cores[k - 1], rr)
            right = _slice_products(right, cores[k], groups[k], "right")
        cores[0] = self._solve_core(0, lefts[0], right, data, regularization)
        self.rank_list = [1] + [c.shape[2] for c in cores[:-1]] + [1]

    def grow(self, rng) -> bool:
        """Every bond below its cap grows by one: new rows of ``G_k`` at random (then
        orthonormalised), new columns of ``G_{k-1}`` zero, so the tensor is unchanged."""
        grown = False
        for k in range(1, len(self.shape)):
            if self.rank_list[k] >= self.caps[k]:
                continue
            left, right = self.cores[k - 1], self.cores[k]
            r0, n0, _ = left.shape
            _, n1, r2 = right.shape
            self.cores[k - 1] = np.concatenate([left, np.zeros((r0, n0, 1))], axis=2)
            row = rng.standard_normal((1, n1, r2)) / np.sqrt(n1 * r2)
            self.cores[k] = np.concatenate([right, row], axis=0)
            grown = True
        if grown:
            self._right_orthogonalize()
        return grown

    def to_tensor(self, ctx) -> TTTensor:
        return TTTensor([tl.tensor(c, **ctx) for c in self.cores])


def tt_complete(
    indices_or_tensor,
    values=None,
    shape: Sequence[int] | None = None,
    *,
    mask=None,
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
    """TT completion: a TT tensor fitted to observed entries, with rank growth on held-out ones.

    The observed entries are given as ``(indices, values, shape)`` (indices an int array
    ``(N, d)``) or as a tensor with a boolean ``mask`` (True = observed). A random
    ``validation_fraction`` of them is held out. Alternating least squares sweeps over the cores
    (:class:`TTModel`: each slice of a core is a ridge least-squares problem on the samples in
    that slice, the other cores orthonormal) run until the validation error stalls; with
    ``rank=None`` the ranks start at 1 and every bond grows by one (warm start: the tensor is
    unchanged by the growth), until the validation error is ``<= tol``, a larger rank no longer
    lowers it (the best rank is kept), ``max_rank`` is reached or the next rank would have more
    degrees of freedom than training entries. The model kept is refitted on all observed entries.
    Computed in numpy float64; the cores come back on the current TensorLy backend in the
    dtype of the values.

    Parameters
    ----------
    indices_or_tensor : int array (N, d), or tensor
        The observed multi-indices, or (with ``mask``) the tensor whose entries are observed
        where ``mask`` is True (unobserved entries may hold anything, NaN included).
    values : array (N,) or None
        The observed values (with indices).
    shape : sequence of d >= 2 ints or None
        Mode sizes (with indices).
    mask : boolean array or None
        Which entries of the tensor are observed.
    rank : int, list of d+1 ints, or None
        Fixed TT ranks (as :func:`~tensorexpr.tt_svd`); None grows them from 1.
    tol : float in (0, 1) or None
        Target relative error on the validation entries; None grows while it helps.
    max_rank : int or None
        Cap on every rank during growth.
    validation_fraction : float in [0, 1), default 0.1
        Share of the observed entries held out for the rank choice (0: none; the stopping
        rules then watch the training error).
    regularization : float >= 0, default 1e-13
        Ridge weight of each slice's solve, relative to the mean diagonal of its Gram matrix.
    max_iter : int, default 50
        Most sweeps (one left-to-right and one right-to-left pass) per rank.
    refit : bool, default True
        Refit the kept model on all observed entries (training and validation).
    random_state : None, int or numpy Generator
        The validation split, the start and the growth directions.
    verbose : int, default 0
        0: silent; >= 1: one line per sweep (ranks, training and validation error, seconds).
    n_iter_max : deprecated
        The old name of ``max_iter`` (a FutureWarning; removed in 0.3).

    Returns
    -------
    CompletionResult
        ``result.tensor`` is a ``tensorly.tt_tensor.TTTensor``; errors per sweep, ranks,
        samples used.

    Warns
    -----
    UserWarning
        Duplicate indices (averaged), a slice without observed entries, fewer training entries
        than degrees of freedom at the rank given.
    RuntimeWarning
        ``tol`` given and not reached.

    References
    ----------
    L. Grasedyck, M. Kluge, S. Kraemer. Variants of alternating least squares tensor completion
    in the tensor train format. SIAM J. Sci. Comput. 37(5):A2424-A2450, 2015.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> from tensorly.tt_tensor import TTTensor
    >>> rng = np.random.default_rng(0)
    >>> true = TTTensor([rng.random(s) for s in [(1, 5, 2), (2, 5, 2), (2, 5, 2),
    ...                                                   (2, 5, 1)]]).to_tensor()
    >>> mask = rng.random(true.shape) < 0.5
    >>> res = te.tt_complete(true, mask=mask, tol=1e-8, random_state=0)
    >>> res.ranks, res.converged
    ((1, 2, 2, 2, 1), True)
    >>> err = np.linalg.norm(res.tensor.to_tensor() - true) / np.linalg.norm(true)
    >>> bool(err < 1e-6)
    True
    """
    max_iter = renamed_value("tt_complete", "n_iter_max", n_iter_max, "max_iter", max_iter)
    entries = observed_entries(indices_or_tensor, values, shape, mask)
    validation_fraction, regularization, max_iter, tol, max_rank = check_completion_args(
        validation_fraction, regularization, max_iter, tol, max_rank
    )
    d = len(entries.shape)
    caps = _tt_caps(entries.shape, max_rank)
    if rank is None:
        ranks = [1] * (d + 1)
    else:
        given = check_tt_rank(rank, d)
        ranks = [min(r, c) for r, c in zip(given, _tt_caps(entries.shape, None), strict=True)]
    model = TTModel(entries.shape, ranks, caps)
    return fit_completion(
        model,
        entries,
        name="tt_complete",
        grow=rank is None,
        tol=tol,
        validation_fraction=validation_fraction,
        regularization=regularization,
        max_iter=max_iter,
        refit=refit,
        rng=random_state,
        verbose=verbose,
    )
