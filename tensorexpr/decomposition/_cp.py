"""CP (CANDECOMP/PARAFAC) decomposition: ALS with restarts; the smallest rank for a tolerance."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import tensorly as tl
from sklearn.base import BaseEstimator, TransformerMixin
from tensorly.cp_tensor import CPTensor, cp_to_tensor
from tensorly.decomposition import parafac

from ..validation import check_positive_int, check_random_state, check_tensor
from ._common import check_tol, squared_norm

__all__ = ["cp", "cp_rank", "CPRankResult", "CP"]

_RESERVED = ("random_state", "return_errors")


def _relative_error(tensor, cp_tensor, norm: float) -> float:
    residual = float(tl.to_numpy(tl.norm(tensor - cp_to_tensor(cp_tensor))))
    return residual / norm if norm > 0 else (0.0 if residual == 0 else float("inf"))


def _cp(tensor, norm, rank, n_restarts, rng, parafac_kwargs):
    best, best_error = None, np.inf
    for restart in range(n_restarts):
        kwargs = {"init": "svd" if restart == 0 else "random", **parafac_kwargs}
        seed = int(rng.integers(2**31 - 1))
        with warnings.catch_warnings():
            # rank > a mode size: tensorly's SVD start fills the missing columns at random and
            # warns about the start *we* chose; the fit is still valid, so the user is not told
            warnings.filterwarnings(
                "ignore", message="Trying to compute SVD with n_eigenvecs", category=UserWarning
            )
            candidate = parafac(tensor, rank, random_state=seed, **kwargs)
        error = _relative_error(tensor, candidate, norm)
        if error < best_error or best is None:
            best, best_error = candidate, error
    return best, best_error


def _check_parafac_kwargs(parafac_kwargs: dict) -> dict:
    for key in _RESERVED:
        if key in parafac_kwargs:
            raise TypeError(f"parafac_kwargs must not contain {key!r}: it is set by tensorexpr")
    return parafac_kwargs


def cp(
    tensor, rank: int, n_restarts: int = 3, random_state=None, **parafac_kwargs
) -> tuple[CPTensor, float]:
    """CP decomposition by ALS (tensorly's ``parafac``), best of several starts.

    The first start uses the SVD initialisation, the others random ones (unless ``init`` is
    given); the decomposition with the smallest relative error is returned. When ``rank`` exceeds
    a mode size, the SVD start fills the columns it lacks at random (tensorly), silently.

    Parameters
    ----------
    tensor : tensor or array-like
        Real tensor of order >= 2.
    rank : int
        Number of rank-one terms.
    n_restarts : int, default 3
        Number of ALS runs.
    random_state : None, int or numpy Generator
        Seeds of the random starts (reproducible with an int).
    **parafac_kwargs
        Passed to :func:`tensorly.decomposition.parafac` (``n_iter_max``, ``tol``, ``init``...).

    Returns
    -------
    cp_tensor : tensorly.cp_tensor.CPTensor
    rel_error : float
        ``||tensor - cp_tensor|| / ||tensor||``.

    References
    ----------
    T. G. Kolda, B. W. Bader. Tensor decompositions and applications. SIAM Review 51(3), 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import cp
    >>> tensor = np.einsum("i,j,k->ijk", np.arange(1.0, 4.0), np.ones(2), np.arange(1.0, 5.0))
    >>> cp_tensor, rel_error = cp(tensor, rank=1, random_state=0)
    >>> bool(rel_error < 1e-10)
    True
    """
    tensor = check_tensor(tensor, "tensor", min_ndim=2, check_finite=False)
    rank = check_positive_int(rank, "rank")
    n_restarts = check_positive_int(n_restarts, "n_restarts")
    rng = check_random_state(random_state)
    norm = float(np.sqrt(squared_norm(tensor)))
    return _cp(tensor, norm, rank, n_restarts, rng, _check_parafac_kwargs(parafac_kwargs))


@dataclass
class CPRankResult:
    """Result of :func:`cp_rank`; the fields are its constructor parameters.

    Parameters
    ----------
    rank : int
        The smallest rank tried whose best fit met the tolerance (the last rank tried if none).
    cp_tensor : CPTensor
        The best decomposition at that rank.
    rel_error : float
        Its relative error.
    errors : dict of int to float
        Best relative error found at each rank tried.
    reached : bool
        Whether the tolerance was met.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import cp_rank
    >>> x = np.arange(1.0, 4.0)
    >>> res = cp_rank(np.einsum("i,j,k->ijk", x, x, x), tol=1e-8, random_state=0)
    >>> res.rank, res.reached
    (1, True)
    """

    rank: int
    cp_tensor: CPTensor = field(repr=False)
    rel_error: float
    errors: dict[int, float]
    reached: bool


def cp_rank(
    tensor,
    tol: float,
    max_rank: int | None = None,
    n_restarts: int = 3,
    random_state=None,
    **parafac_kwargs,
) -> CPRankResult:
    """The smallest CP rank whose ALS fit has relative error ``<= tol``.

    Ranks 1, 2, ... are tried in turn (:func:`cp` with restarts at each). ALS is a local method,
    so the rank found is an upper bound on the exact tolerance rank: the smallest rank at which
    *a fit was found*. Warns if ``max_rank`` is reached without meeting ``tol``.

    Parameters
    ----------
    tensor : tensor or array-like
        Real tensor of order >= 2.
    tol : float in (0, 1)
        Relative Frobenius error target.
    max_rank : int or None
        Largest rank tried; default ``prod(shape) / max(shape)`` (every tensor has a CP
        decomposition of that rank).
    n_restarts : int, default 3
    random_state : None, int or numpy Generator
    **parafac_kwargs
        Passed to :func:`tensorly.decomposition.parafac`.

    Returns
    -------
    CPRankResult

    References
    ----------
    T. G. Kolda, B. W. Bader. Tensor decompositions and applications. SIAM Review 51(3), 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import cp_rank
    >>> a, b = np.arange(1.0, 4.0), np.array([1.0, -1.0, 2.0])
    >>> tensor = np.einsum("i,j,k->ijk", a, a, a) + np.einsum("i,j,k->ijk", b, b, b)
    >>> result = cp_rank(tensor, tol=1e-6, random_state=0)
    >>> result.rank, result.reached
    (2, True)
    """
    tensor = check_tensor(tensor, "tensor", min_ndim=2, check_finite=False)
    tol = check_tol(tol)
    if tol is None:
        raise TypeError("tol must be a float in (0, 1), got None")
    shape = tuple(tl.shape(tensor))
    if max_rank is None:
        max_rank = int(np.prod(shape) // max(shape))
    max_rank = check_positive_int(max_rank, "max_rank")
    n_restarts = check_positive_int(n_restarts, "n_restarts")
    rng = check_random_state(random_state)
    parafac_kwargs = _check_parafac_kwargs(parafac_kwargs)
    norm = float(np.sqrt(squared_norm(tensor)))
    errors: dict[int, float] = {}
    for rank in range(1, max_rank + 1):
        cp_tensor, error = _cp(tensor, norm, rank, n_restarts, rng, parafac_kwargs)
        errors[rank] = error
        if error <= tol:
            return CPRankResult(rank, cp_tensor, error, errors, True)
    warnings.warn(
        f"cp_rank: no rank <= max_rank = {max_rank} reached tol = {tol} "
        f"(best relative error {error:.3g})",
        stacklevel=2,
    )
    return CPRankResult(max_rank, cp_tensor, error, errors, False)


class CP(TransformerMixin, BaseEstimator):
    """CP decomposition (ALS with restarts), as a scikit-learn style transformer.

    A thin wrapper of :func:`cp`.

    Parameters
    ----------
    rank : int, default 1
    n_restarts : int, default 3
    random_state : None, int or numpy Generator
    max_iter : int, default 100
        ALS iterations per run (tensorly's ``n_iter_max``).

    Attributes
    ----------
    decomposition_ : CPTensor
    rel_error_ : float

    See Also
    --------
    cp : the function doing the work.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import CP
    >>> model = CP(rank=1, random_state=0).fit(np.ones((2, 3, 4)))
    >>> bool(model.rel_error_ < 1e-10)
    True
    """

    def __init__(self, rank=1, n_restarts=3, random_state=None, max_iter=100):
        self.rank = rank
        self.n_restarts = n_restarts
        self.random_state = random_state
        self.max_iter = max_iter

    def fit(self, tensor, y=None):
        """Decompose ``tensor``; store ``decomposition_`` and ``rel_error_``; return self."""
        self.decomposition_, self.rel_error_ = cp(
            tensor,
            self.rank,
            n_restarts=self.n_restarts,
            random_state=self.random_state,
            n_iter_max=self.max_iter,
        )
        return self

    def fit_transform(self, tensor, y=None) -> CPTensor:
        """Decompose ``tensor`` and return the CPTensor."""
        return self.fit(tensor).decomposition_
