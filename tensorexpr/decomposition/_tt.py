"""Tensor-Train (TT) decomposition: delta-truncated TT-SVD and TT rounding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorly as tl
from sklearn.base import BaseEstimator, TransformerMixin
from tensorly.tt_tensor import TTTensor

from .._backend import dot_t, factors_to_backend
from ..validation import check_tensor
from ._common import (
    CHUNKED,
    WIDE,
    check_tol,
    check_tt_rank,
    is_dask_array,
    squared_norm,
    truncated_left_svd,
)

__all__ = ["tt_svd", "tt_round", "TTSVD"]


def tt_svd(tensor, rank: int | Sequence[int] | None = None, tol: float | None = None) -> TTTensor:
    """TT decomposition by the delta-truncated TT-SVD.

    Sweeps the modes left to right; step ``k`` truncates the unfolding ``C_k`` of the part not yet
    factorized (shape ``(r_{k-1} n_k, n_{k+1} ... n_{d-1})``) to the smallest rank whose discarded
    singular values have Frobenius norm ``<= delta = tol * ||tensor|| / sqrt(d - 1)``.

    Guarantees (with ``tol`` given and no binding ``rank`` cap):

    - error: ``||tensor - tt.to_tensor()|| <= tol * ||tensor||`` (the step errors are orthogonal);
    - minimality, per step: each ``r_k`` is the smallest rank meeting the step's budget, i.e.
      keeping ``r_k - 1`` singular values of ``C_k`` would discard more than ``delta``. For
      ``k = 1`` this is a statement on ``tensor`` itself (its first unfolding has no rank
      ``r_1 - 1`` approximation within ``delta``); later ``C_k`` are the unfoldings of
      ``tensor`` projected on the left cores already chosen. It is not a global minimality:
      a smaller TT with error ``<= tol * ||tensor||`` may exist.

    Wide unfoldings (the first steps on grid tensors) take their left singular vectors from the
    Gram matrix ``C C^T`` when ``tol`` is large enough for the squared condition number
    (``delta^2 > 1e3 p eps ||C_k||^2``) and the rank kept is checked a posteriori, or from a QR of
    ``C^T`` otherwise. With ``rank`` alone the Gram route is kept only when the smallest singular
    value kept is above ``eps^(1/4) sigma_max`` (subspace error below ``eps^(3/4)``).

    Parameters
    ----------
    tensor : tensor or array-like
        Real tensor of order d >= 1 (float32 stays float32, anything else becomes float64).
        A ``dask.array.Array`` (zarr, HDF5, memmap data) is decomposed chunk by chunk in two
        passes, with the same error guarantee checked on the data (docs/larger_than_memory.md).
    rank : int, list of d+1 ints, or None
        Rank caps: an int caps every inner rank; a list ``[1, r_1, ..., r_{d-1}, 1]`` caps each
        (as tensorly's ``validate_tt_rank``). A cap that binds voids the error guarantee.
    tol : float in (0, 1) or None
        Relative Frobenius error target. With ``rank=None`` and ``tol=None`` nothing is truncated.

    Returns
    -------
    tensorly.tt_tensor.TTTensor
        Cores ``(r_{k-1}, n_k, r_k)``; cores 0..d-2 are left-orthonormal.

    References
    ----------
    I. V. Oseledets. Tensor-train decomposition. SIAM J. Sci. Comput. 33(5):2295-2317, 2011
    (Algorithm 1, TT-SVD).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import tt_svd
    >>> x = np.arange(1.0, 5.0)
    >>> tensor = np.einsum("i,j,k->ijk", x, x, x) + np.einsum("i,j,k->ijk", x**2, x**2, x)
    >>> tt = tt_svd(tensor, tol=1e-8)
    >>> tt.rank
    (1, 2, 1, 1)
    >>> bool(np.linalg.norm(tt.to_tensor() - tensor) <= 1e-8 * np.linalg.norm(tensor))
    True
    """
    if is_dask_array(tensor):
        return CHUNKED["tt_svd"](tensor, rank, tol)
    tensor = check_tensor(tensor, "tensor", min_ndim=1, check_finite=False)
    tol = check_tol(tol)
    shape = tuple(tl.shape(tensor))
    d = len(shape)
    caps = check_tt_rank(rank, d)
    gram = None
    if d > 1 and shape[0] * WIDE <= np.prod(shape[1:]):
        # the first Gram matrix gives the norm (and catches NaN / inf) for free
        first = tl.reshape(tensor, (shape[0], -1))
        gram = dot_t(first, first, transpose_b=True)
        norm2 = float(tl.to_numpy(tl.trace(gram)))
        if not np.isfinite(norm2):
            raise ValueError("tensor must contain only finite values (no NaN or inf)")
    else:
        norm2 = squared_norm(tensor)
    delta2 = None if tol is None else tol**2 * norm2 / max(d - 1, 1)
    factors = []
    rest, r_prev, rest_norm2 = tensor, 1, norm2
    for k in range(d - 1):
        matrix = tl.reshape(rest, (r_prev * shape[k], -1))
        u, rest, tail2, _ = truncated_left_svd(
            matrix, caps[k + 1], delta2, norm2=rest_norm2, gram=gram if k == 0 else None
        )
        r = tl.shape(u)[1]
        factors.append(tl.reshape(u, (r_prev, shape[k], r)))
        r_prev, rest_norm2 = r, max(rest_norm2 - tail2, 0.0)
    factors.append(tl.reshape(rest, (r_prev, shape[-1], 1)))
    return TTTensor(factors)


def check_tt(tt) -> TTTensor:
    """A TTTensor whose cores are tensors of the current backend (foreign cores converted)."""
    if isinstance(tt, TTTensor):
        tt = tt.factors
    elif tl.is_tensor(tt) or not isinstance(tt, (list, tuple)):
        raise TypeError(f"tt must be a TTTensor or a list of TT cores, got {type(tt).__name__}")
    if len(tt) == 0:
        raise ValueError("tt must hold at least one TT core (r_k, n_k, r_k+1), got none")
    cores = factors_to_backend(tt, "tt")
    try:
        return TTTensor(cores)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"tt must be a valid list of TT cores (r_k, n_k, r_k+1): {exc}") from exc


def tt_orthogonalize(tt) -> TTTensor:
    """Right-orthogonal form: cores 1..d-1 right-orthonormal, the norm carried by core 0.

    Ranks larger than a core can support (``r_k > n_k r_{k+1}``) shrink; the tensor is unchanged.
    """
    cores = list(check_tt(tt).factors)
    for k in range(len(cores) - 1, 0, -1):
        r0, n, r1 = tl.shape(cores[k])
        # core_k = R^T Q^T with Q^T right-orthonormal; R^T moves into core_{k-1}
        q, r = tl.qr(tl.transpose(tl.reshape(cores[k], (r0, n * r1))))
        m = tl.shape(q)[1]
        cores[k] = tl.reshape(tl.transpose(q), (m, n, r1))
        a, b, _ = tl.shape(cores[k - 1])
        cores[k - 1] = tl.reshape(
            tl.dot(tl.reshape(cores[k - 1], (a * b, r0)), tl.transpose(r)), (a, b, m)
        )
    return TTTensor(cores)


def tt_round(tt, rank: int | Sequence[int] | None = None, tol: float | None = None) -> TTTensor:
    """Recompress a TT tensor: orthogonalize right to left, then truncate left to right.

    Works on the cores only (cost ``O(d n r^3)``), never on the full tensor. With ``tol`` and no
    binding cap, ``||tt - result|| <= tol * ||tt||``, and each rank is minimal for its step in the
    sense of :func:`tt_svd` (the rounding is the TT-SVD of ``tt`` done on its cores).

    Parameters
    ----------
    tt : TTTensor or list of cores
    rank : int, list of d+1 ints, or None
        Rank caps, as in :func:`tt_svd`.
    tol : float in (0, 1) or None
        Relative Frobenius error target; with both None only exact rank reductions happen.

    Returns
    -------
    tensorly.tt_tensor.TTTensor

    References
    ----------
    I. V. Oseledets. Tensor-train decomposition. SIAM J. Sci. Comput. 33(5):2295-2317, 2011
    (Algorithm 2, TT-rounding).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorly.tt_tensor import TTTensor
    >>> from tensorexpr import tt_round
    >>> core = np.ones((1, 3, 1))
    >>> doubled = TTTensor([np.ones((1, 3, 2)), np.ones((2, 3, 2)) / 2, np.ones((2, 3, 1))])
    >>> tt_round(doubled, tol=1e-10).rank
    (1, 1, 1, 1)
    """
    tt = check_tt(tt)
    tol = check_tol(tol)
    d = len(tt.factors)
    caps = check_tt_rank(rank, d)
    cores = list(tt_orthogonalize(tt).factors)
    norm2 = float(tl.to_numpy(tl.sum(cores[0] * cores[0])))
    if not np.isfinite(norm2):
        raise ValueError("tt must contain only finite values (no NaN or inf)")
    delta2 = None if tol is None else tol**2 * norm2 / max(d - 1, 1)
    for k in range(d - 1):
        r0, n, r1 = tl.shape(cores[k])
        u, w, _, _ = truncated_left_svd(tl.reshape(cores[k], (r0 * n, r1)), caps[k + 1], delta2)
        m = tl.shape(u)[1]
        cores[k] = tl.reshape(u, (r0, n, m))
        _, n1, r2 = tl.shape(cores[k + 1])
        cores[k + 1] = tl.reshape(tl.dot(w, tl.reshape(cores[k + 1], (r1, n1 * r2))), (m, n1, r2))
    return TTTensor(cores)


class TTSVD(TransformerMixin, BaseEstimator):
    """TT decomposition by TT-SVD, as a scikit-learn style transformer.

    A thin wrapper of :func:`tt_svd`.

    Parameters
    ----------
    rank : int, list of d+1 ints, or None
        Rank caps.
    tol : float in (0, 1) or None
        Relative error target.

    Attributes
    ----------
    decomposition_ : TTTensor
        The decomposition of the last tensor fitted.

    See Also
    --------
    tt_svd : the function doing the work.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import TTSVD
    >>> tensor = np.ones((2, 3, 4))
    >>> TTSVD(tol=1e-6).fit_transform(tensor).rank
    (1, 1, 1, 1)
    """

    def __init__(self, rank=None, tol=None):
        self.rank = rank
        self.tol = tol

    def fit(self, tensor, y=None):
        """Decompose ``tensor``; store the result in ``decomposition_``; return self."""
        self.decomposition_ = tt_svd(tensor, rank=self.rank, tol=self.tol)
        return self

    def fit_transform(self, tensor, y=None) -> TTTensor:
        """Decompose ``tensor`` and return the TTTensor."""
        return self.fit(tensor).decomposition_
