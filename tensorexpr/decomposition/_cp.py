"""CP (CANDECOMP/PARAFAC) decomposition: ALS with restarts; the smallest rank for a tolerance."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import tensorly as tl
from sklearn.base import BaseEstimator, TransformerMixin
from tensorly.cp_tensor import CPTensor, cp_to_tensor
from tensorly.decomposition import parafac

from .._backend import dot_t, to_numpy
from .._deprecation import DEPRECATED, TupleResult, renamed_attribute, renamed_value
from ..validation import (
    check_positive_int,
    check_random_state,
    check_real,
    check_size,
    check_tensor,
    check_verbose,
)
from ._common import CHUNKED, check_tol, is_dask_array, squared_norm

__all__ = ["cp", "CPResult", "cp_rank", "CPRankResult", "CP", "cp_als", "default_max_rank"]

_RESERVED = ("random_state", "return_errors")
#: Keywords of tensorly's parafac that tensorexpr's own ALS implements; any other keyword
#: (normalize_factors, orthogonalise, mask, linesearch, ...) sends the fit to tensorly's parafac.
_OWN_ALS = ("n_iter_max", "tol", "init", "verbose")


def _relative_error(tensor, cp_tensor, norm: float) -> float:
    residual = float(tl.to_numpy(tl.norm(tensor - cp_to_tensor(cp_tensor))))
    return residual / norm if norm > 0 else (0.0 if residual == 0 else float("inf"))


def _khatri_rao(factors):
    """Row-wise Kronecker product, rows in C order (first factor slowest), as ``tl.reshape``
    of the tensor unfolds."""
    out = factors[0]
    for factor in factors[1:]:
        rows, rank = tl.shape(out)[0] * tl.shape(factor)[0], tl.shape(out)[1]
        out = tl.reshape(
            tl.reshape(out, (-1, 1, rank)) * tl.reshape(factor, (1, -1, rank)), (rows, rank)
        )
    return out


def _mttkrp(tensor, factors, mode: int, shape: tuple[int, ...]):
    """``unfold(tensor, mode) @ khatri_rao(other factors)`` without moving the tensor.

    The tensor is seen as (P, n_mode, Q) by a free reshape: one product with the Khatri-Rao
    product of the trailing factors, then a weighted sum over the leading rows. tensorly's
    unfolding copies the tensor once per mode; this does not.
    """
    d = len(shape)
    n = shape[mode]
    if mode == 0:
        return tl.dot(tl.reshape(tensor, (n, -1)), _khatri_rao(factors[1:]))
    lead = _khatri_rao(factors[:mode])
    if mode == d - 1:
        return dot_t(tl.reshape(tensor, (-1, n)), lead, transpose_a=True)
    rank = tl.shape(lead)[1]
    rows = tl.shape(lead)[0]
    partial = tl.dot(tl.reshape(tensor, (rows * n, -1)), _khatri_rao(factors[mode + 1 :]))
    return tl.sum(tl.reshape(partial, (rows, n, rank)) * tl.reshape(lead, (rows, 1, rank)), axis=0)


def _init_factors(tensor, rank: int, init, rng):
    shape = tuple(tl.shape(tensor))
    ctx = tl.context(tensor)
    if isinstance(init, (CPTensor, tuple, list)):
        weights, factors = init
        factors = [_as_factor(f, ctx) for f in factors]
        if len(factors) != len(shape) or any(
            tuple(tl.shape(f)) != (n, rank) for f, n in zip(factors, shape, strict=False)
        ):
            raise ValueError(
                f"init must be a CP tensor of rank {rank} and shape {shape}, got factors of "
                f"shapes {[tuple(tl.shape(f)) for f in factors]}"
            )
        weights = _as_factor(weights, ctx)
        return [factors[0] * tl.reshape(weights, (1, -1)), *factors[1:]]
    if init == "random":
        return [tl.tensor(rng.random((n, rank)), **ctx) for n in shape]
    if init != "svd":
        raise ValueError(f"init must be 'svd', 'random' or a CPTensor, got {init!r}")
    factors = []
    for mode, n in enumerate(shape):
        # leading left singular vectors of the unfolding, from its n x n Gram matrix; the
        # columns beyond n (rank > n) are random, as tensorly's svd start
        unfolding = tl.reshape(tl.moveaxis(tensor, mode, 0), (n, -1))
        _, vecs = tl.eigh(dot_t(unfolding, unfolding, transpose_b=True))
        k = min(rank, n)
        lead = tl.flip(vecs[:, n - k :], axis=1)
        if k < rank:
            lead = tl.concatenate([lead, tl.tensor(rng.random((n, rank - k)), **ctx)], axis=1)
        factors.append(lead)
    return factors


def _as_factor(array, ctx):
    """A factor given by the user, converted to the tensor's backend and dtype."""
    return tl.tensor(np.ascontiguousarray(to_numpy(array, "init")), **ctx)


def cp_als(
    tensor,
    rank: int,
    norm2: float,
    n_iter_max: int = 100,
    tol: float = 1e-8,
    init="svd",
    rng=None,
    verbose: bool = False,
) -> CPTensor:
    """CP-ALS on tensorly's backend functions (one code path for every backend).

    Each sweep solves the normal equations of one factor at a time,
    ``A_k (*_{j != k} A_j^T A_j) = unfold_k(T) (kr_{j != k} A_j)``; the MTTKRP is
    :func:`_mttkrp`. The fit error is tracked from the Gram matrices
    (``||T||^2 - 2 <T, X> + ||X||^2``) and the sweeps stop when it changes by less than ``tol``
    (relative), as tensorly's ``parafac`` with ``cvg_criterion="abs_rec_error"``.

    References
    ----------
    T. G. Kolda, B. W. Bader. Tensor decompositions and applications. SIAM Review 51(3), 2009
    (Section 3.4, the ALS algorithm).
    """
    rng = check_random_state(rng)
    factors = _init_factors(tensor, rank, init, rng)
    ctx = tl.context(tensor)
    grams = [tl.dot(tl.transpose(f), f) for f in factors]
    sweep = _compiled_sweep(tl.get_backend())
    previous = None
    for iteration in range(n_iter_max):
        factors, grams, excess = sweep(tensor, factors, grams)
        err2 = norm2 + float(tl.to_numpy(excess))
        error = np.sqrt(max(err2, 0.0) / norm2) if norm2 > 0 else 0.0
        if verbose:
            print(f"cp_als: iteration {iteration + 1}, relative error {error:.3e}")
        if previous is not None and abs(previous - error) < tol:
            break
        previous = error
    return CPTensor((tl.ones(rank, **ctx), factors))


def _als_sweep(tensor, factors: list, grams: list):
    """One ALS sweep over every mode; returns (factors, grams, ||X||^2 - 2 <T, X>)."""
    factors, grams = list(factors), list(grams)
    shape = tuple(tl.shape(tensor))
    d = len(shape)
    rank = tl.shape(factors[0])[1]
    eye = tl.eye(rank, **tl.context(tensor))
    for mode in range(d):
        lhs = None
        for j in range(d):
            if j != mode:
                lhs = grams[j] if lhs is None else lhs * grams[j]
        mttkrp = _mttkrp(tensor, factors, mode, shape)
        # a tiny ridge keeps the solve defined when columns become collinear
        ridge = tl.trace(lhs) * (1e-14 / rank) + 1e-300
        factors[mode] = tl.transpose(tl.solve(lhs + ridge * eye, tl.transpose(mttkrp)))
        grams[mode] = tl.dot(tl.transpose(factors[mode]), factors[mode])
    # after the last mode's update: <T, X> = sum(mttkrp * A_last), ||X||^2 = sum(*_j G_j)
    # (lhs of the last mode = product of the other Gram matrices; one sync per sweep)
    excess = tl.sum(lhs * grams[d - 1]) - 2 * tl.sum(mttkrp * factors[d - 1])
    return factors, grams, excess


_COMPILED_SWEEPS: dict = {}


def _compiled_sweep(backend: str):
    """The sweep compiled by ``jax.jit`` / ``tf.function`` (tensorly's jax and tensorflow
    functions trace): one dispatch per sweep instead of ~20 per mode. Compiled once per tensor
    shape and rank and reused (cp_rank tries each rank once, with all its restarts and
    iterations on one compilation). numpy and pytorch run the sweep eagerly."""
    if backend not in ("jax", "tensorflow"):
        return _als_sweep
    if backend not in _COMPILED_SWEEPS:
        if backend == "jax":
            import jax

            _COMPILED_SWEEPS[backend] = jax.jit(_als_sweep)
        else:
            import tensorflow as tf

            _COMPILED_SWEEPS[backend] = tf.function(_als_sweep, reduce_retracing=False)
    return _COMPILED_SWEEPS[backend]


def _parafac(tensor, rank, init, seed, norm2, parafac_kwargs):
    own = {k: v for k, v in parafac_kwargs.items() if k in _OWN_ALS}
    if len(own) == len(parafac_kwargs):
        return cp_als(tensor, rank, norm2, init=init, rng=seed, **own)
    with warnings.catch_warnings():
        # rank > a mode size: tensorly's SVD start fills the missing columns at random and
        # warns about the start *we* chose; the fit is still valid, so the user is not told
        warnings.filterwarnings(
            "ignore", message="Trying to compute SVD with n_eigenvecs", category=UserWarning
        )
        return parafac(tensor, rank, init=init, random_state=seed, **parafac_kwargs)


def _cp(tensor, norm, rank, n_restarts, rng, parafac_kwargs) -> CPResult:
    best, best_error, errors = None, np.inf, []
    for restart in range(n_restarts):
        init = parafac_kwargs.get("init", "svd" if restart == 0 else "random")
        kwargs = {k: v for k, v in parafac_kwargs.items() if k != "init"}
        seed = int(rng.integers(2**31 - 1))
        candidate = _parafac(tensor, rank, init, seed, norm**2, kwargs)
        error = _relative_error(tensor, candidate, norm)
        errors.append(error)
        if error < best_error or best is None:
            best, best_error = candidate, error
    return CPResult(best, best_error, errors)


def _check_parafac_kwargs(parafac_kwargs: dict, max_iter) -> dict:
    """The keywords of tensorly's parafac, with ``n_iter_max=max_iter``."""
    for key in _RESERVED:
        if key in parafac_kwargs:
            raise TypeError(f"parafac_kwargs must not contain {key!r}: it is set by tensorexpr")
    # the keywords every ALS reads, checked here rather than deep inside tensorly
    parafac_kwargs = {**parafac_kwargs, "n_iter_max": check_positive_int(max_iter, "max_iter")}
    if "tol" in parafac_kwargs:
        check_real(parafac_kwargs["tol"], "tol", low=0.0)
    return parafac_kwargs


@dataclass
class CPResult(TupleResult):
    """Result of :func:`cp`; the fields are its constructor parameters.

    Unpacking it as ``cp_tensor, error = cp(...)`` (the tuple :func:`cp` returned before 0.2)
    still works, with a FutureWarning, until 0.3.

    Parameters
    ----------
    cp_tensor : CPTensor
        The best decomposition found.
    relative_error : float
        Its relative error ``||tensor - cp_tensor|| / ||tensor||``.
    restart_errors : list of float
        The relative error of each ALS run, in order.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import cp
    >>> result = cp(np.ones((2, 3, 4)), rank=1, n_restarts=2, random_state=0)
    >>> result.cp_tensor.rank, len(result.restart_errors), bool(result.relative_error < 1e-10)
    (1, 2, True)
    """

    _tuple_fields = ("cp_tensor", "relative_error")
    _returned_by = "te.cp()"

    cp_tensor: CPTensor = field(repr=False)
    relative_error: float
    restart_errors: list[float] = field(default_factory=list)


def cp(
    tensor, rank: int, n_restarts: int = 3, random_state=None, max_iter: int = 100, **parafac_kwargs
) -> CPResult:
    """CP decomposition by ALS (tensorly's ``parafac``), best of several starts.

    The first start uses the SVD initialisation, the others random ones (unless ``init`` is
    given); the decomposition with the smallest relative error is returned. When ``rank`` exceeds
    a mode size, the SVD start fills the columns it lacks at random (tensorly), silently.

    Parameters
    ----------
    tensor : tensor or array-like
        Real tensor of order >= 2. A ``dask.array.Array`` is compressed chunk by chunk in two
        passes (randomized Tucker core), ALS runs on the core, a third pass corrects the
        factors outside the core's ranges, and ``relative_error`` is measured against the whole
        tensor (docs/larger_than_memory.md).
    rank : int
        Number of rank-one terms.
    n_restarts : int, default 3
        Number of ALS runs.
    random_state : None, int or numpy Generator
        Seeds of the random starts (reproducible with an int).
    max_iter : int, default 100
        Most ALS sweeps per run (TensorLy's ``n_iter_max``; that name is still accepted, with a
        FutureWarning, until 0.3).
    **parafac_kwargs
        Passed to :func:`tensorly.decomposition.parafac` under TensorLy's names (``tol``: the
        change of the ALS error that stops a run, ``init``...).

    Returns
    -------
    CPResult
        ``.cp_tensor`` (a tensorly CPTensor), ``.relative_error``
        (``||tensor - cp_tensor|| / ||tensor||``), ``.restart_errors``.

    References
    ----------
    T. G. Kolda, B. W. Bader. Tensor decompositions and applications. SIAM Review 51(3), 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import cp
    >>> tensor = np.einsum("i,j,k->ijk", np.arange(1.0, 4.0), np.ones(2), np.arange(1.0, 5.0))
    >>> result = cp(tensor, rank=1, random_state=0)
    >>> bool(result.relative_error < 1e-10), result.cp_tensor.rank
    (True, 1)
    """
    max_iter = renamed_value(
        "cp", "n_iter_max", parafac_kwargs.pop("n_iter_max", DEPRECATED), "max_iter", max_iter
    )
    if is_dask_array(tensor):
        return CHUNKED["cp"](tensor, rank, n_restarts, random_state, max_iter, **parafac_kwargs)
    tensor = check_tensor(tensor, "tensor", min_ndim=2, check_finite=False)
    rank = check_positive_int(rank, "rank")
    _check_cp_size(tuple(tl.shape(tensor)), rank, "rank")
    n_restarts = check_positive_int(n_restarts, "n_restarts")
    rng = check_random_state(random_state)
    norm = float(np.sqrt(squared_norm(tensor)))
    return _cp(tensor, norm, rank, n_restarts, rng, _check_parafac_kwargs(parafac_kwargs, max_iter))


def _check_cp_size(shape: tuple[int, ...], rank: int, name: str) -> None:
    """The ALS work arrays of a rank-``rank`` CP fit fit in memory: factors, Gram matrices and
    the largest Khatri-Rao product (prod of the other modes x rank), refused before any."""
    total = 1
    for n in shape:
        total *= int(n)
    khatri_rao = max(total // int(n) for n in shape)
    n_bytes = 8 * rank * (sum(shape) + len(shape) * rank + khatri_rao)
    check_size(n_bytes, f"{name}={rank}", f"a CP fit of a tensor of shape {shape}")


@dataclass
class CPRankResult:
    """Result of :func:`cp_rank`; the fields are its constructor parameters.

    Parameters
    ----------
    rank : int
        The smallest rank tried whose best fit met the tolerance (the last rank tried if none).
    cp_tensor : CPTensor
        The best decomposition at that rank.
    relative_error : float
        Its relative error (``rel_error`` before 0.2: still readable, with a FutureWarning).
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
    relative_error: float
    errors: dict[int, float]
    reached: bool

    rel_error = renamed_attribute("relative_error")


def default_max_rank(shape) -> int:
    """Default ``max_rank`` of :func:`cp_rank`: ``min(prod(shape) / max(shape), max(16,
    max(shape)))``.

    ``prod / max`` is the rank every tensor has a CP decomposition of; the cap keeps the search
    to minutes (30 x 30 x 30: 30 ranks instead of 900).
    """
    shape = [int(n) for n in shape]
    return max(1, min(int(np.prod(shape, dtype=object)) // max(shape), max(16, max(shape))))


def cp_rank(
    tensor,
    tol: float,
    max_rank: int | None = None,
    n_restarts: int = 3,
    random_state=None,
    verbose: int = 0,
    max_iter: int = 100,
    **parafac_kwargs,
) -> CPRankResult:
    """The smallest CP rank whose ALS fit has relative error ``<= tol``.

    Ranks 1, 2, ... are tried in turn (:func:`cp` with restarts at each). ALS is a local method,
    so the rank found is an upper bound on the exact tolerance rank: the smallest rank at which
    *a fit was found*. If ``max_rank`` is reached without meeting ``tol``, a warning says where
    the search stopped (the last rank tried, the best error and the rank it was found at).

    Parameters
    ----------
    tensor : tensor or array-like
        Real tensor of order >= 2.
    tol : float in (0, 1)
        Relative Frobenius error target.
    max_rank : int or None
        Largest rank tried; default ``min(prod(shape) / max(shape), max(16, max(shape)))``:
        every tensor has a CP decomposition of rank ``prod(shape) / max(shape)``, and the cap
        keeps the default search to a few minutes (pass a larger value to search further).
    n_restarts : int, default 3
    random_state : None, int or numpy Generator
    verbose : int, default 0
        0: silent; >= 1: one line per rank tried (best error, seconds).
    max_iter : int, default 100
        Most ALS sweeps per run (as in :func:`cp`).
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
    max_iter = renamed_value(
        "cp_rank", "n_iter_max", parafac_kwargs.pop("n_iter_max", DEPRECATED), "max_iter", max_iter
    )
    tensor = check_tensor(tensor, "tensor", min_ndim=2, check_finite=False)
    tol = check_tol(tol)
    if tol is None:
        raise TypeError("tol must be a float in (0, 1), got None")
    shape = tuple(tl.shape(tensor))
    default = max_rank is None
    max_rank = default_max_rank(shape) if default else check_positive_int(max_rank, "max_rank")
    _check_cp_size(shape, max_rank, "max_rank")
    verbose = check_verbose(verbose)
    n_restarts = check_positive_int(n_restarts, "n_restarts")
    rng = check_random_state(random_state)
    parafac_kwargs = _check_parafac_kwargs(parafac_kwargs, max_iter)
    norm = float(np.sqrt(squared_norm(tensor)))
    errors: dict[int, float] = {}
    start = time.perf_counter()
    for rank in range(1, max_rank + 1):
        fit = _cp(tensor, norm, rank, n_restarts, rng, parafac_kwargs)
        cp_tensor, error = fit.cp_tensor, fit.relative_error
        errors[rank] = error
        if verbose:
            print(
                f"cp_rank: rank {rank}/{max_rank}: best relative error {error:.3e} "
                f"(tol {tol:g}), {time.perf_counter() - start:.1f} s",
                flush=True,
            )
        if error <= tol:
            return CPRankResult(rank, cp_tensor, error, errors, True)
    best_rank = min(errors, key=errors.get)
    warnings.warn(
        f"cp_rank stopped at max_rank={max_rank}"
        + (" (the default, min(prod(shape)/max(shape), max(16, max(shape))))" if default else "")
        + f" without meeting tol={tol:g}: ranks 1..{max_rank} tried, best relative error "
        f"{errors[best_rank]:.3g} at rank {best_rank}, {errors[max_rank]:.3g} at rank "
        f"{max_rank}; pass a larger max_rank (or more n_restarts) to search further",
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
        ALS iterations per run (:func:`cp`'s ``max_iter``).

    Attributes
    ----------
    decomposition_ : CPTensor
    relative_error_ : float
        ``rel_error_`` before 0.2 (still readable, with a FutureWarning).

    See Also
    --------
    cp : the function doing the work.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import CP
    >>> model = CP(rank=1, random_state=0).fit(np.ones((2, 3, 4)))
    >>> bool(model.relative_error_ < 1e-10)
    True
    """

    rel_error_ = renamed_attribute("relative_error_")

    def __init__(self, rank=1, n_restarts=3, random_state=None, max_iter=100):
        self.rank = rank
        self.n_restarts = n_restarts
        self.random_state = random_state
        self.max_iter = max_iter

    def fit(self, tensor, y=None):
        """Decompose ``tensor``; store ``decomposition_`` and ``relative_error_``; return self."""
        result = cp(
            tensor,
            self.rank,
            n_restarts=self.n_restarts,
            random_state=self.random_state,
            max_iter=self.max_iter,
        )
        self.decomposition_, self.relative_error_ = result.cp_tensor, result.relative_error
        return self

    def fit_transform(self, tensor, y=None) -> CPTensor:
        """Decompose ``tensor`` and return the CPTensor."""
        return self.fit(tensor).decomposition_
