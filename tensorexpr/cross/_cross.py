"""The TT-cross sweeps, the cache of entries and the result object (see the package
docstring of :mod:`tensorexpr.cross`)."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import tensorly as tl
from tensorly.tt_tensor import TTTensor

from .._backend import float64, to_numpy
from .._deprecation import DEPRECATED, TupleResult, renamed_attribute, renamed_value
from ..decomposition import check_tt_rank, rank_from_singular_values, tt_round
from ..grid import OnTemplates, check_templates, evaluate_in_blocks
from ..validation import (
    callable_name,
    check_callable_output,
    check_positive_int,
    check_size,
    check_verbose,
)
from ._maxvol import rect_maxvol

__all__ = ["tt_cross", "CrossResult", "tt_entries"]


# -- the result -------------------------------------------------------------------------------
@dataclass
class CrossResult(TupleResult):
    """The TT a :func:`tt_cross` run built and what the run did (built by :func:`tt_cross`,
    read by the user).

    Unpacking it as ``tt, info = tt_cross(...)`` (the tuple :func:`tt_cross` returned before
    0.2; ``info`` is the result itself) still works, with a FutureWarning, until 0.3.

    Parameters
    ----------
    n_evals : int
        Distinct entries evaluated (the held-out ones included); no entry is evaluated twice.
    relative_error : float
        Relative error ``||tt(S) - T(S)|| / ||T(S)||`` of the returned TT on the held-out
        entries S (``error`` before 0.2: still readable, with a FutureWarning).
    converged : bool
        Whether ``relative_error <= tol``.
    stop : str
        Why it stopped: ``"tol"``, ``"max_evals"``, ``"max_iter"`` (``"n_iter_max"`` before
        0.2) or ``"stagnation"`` (a whole sweep found nothing new).
    ranks : list of tuples
        TT ranks revealed (before rank growth) after each sweep (one direction over the cores).
    errors, evals : list
        Held-out error and entries evaluated so far after each sweep.
    test_indices : ndarray of shape (n_test, d)
        The held-out multi-indices.
    left_indices, right_indices : list of ndarrays
        The final nested index sets: ``left_indices[k]`` (shape ``(r_k, k)``) holds
        multi-indices over modes ``0..k-1`` (the maxvol pivots of the left-to-right sweeps),
        ``right_indices[k]`` (shape ``(s_k, d-k)``) multi-indices over modes ``k..d-1``,
        for ``k = 1..d-1`` (the other entries are empty or None). They are the sets of the
        last complete sweep: the TT returned interpolates the tensor on the crosses they span.
    tensor : tensorly.tt_tensor.TTTensor
        The TT approximation: float64 cores on the current backend.

    Examples
    --------
    >>> import tensorexpr as te
    >>> result = te.tt_cross(lambda idx: 1.0 + idx[:, 0] * idx[:, 1], (4, 4), random_state=0)
    >>> result.n_evals <= 16 + 1000, result.tensor.rank
    (True, (1, 2, 1))
    """

    _tuple_fields = ("tensor", "self")
    _returned_by = "te.tt_cross()"

    n_evals: int
    relative_error: float
    converged: bool
    stop: str
    ranks: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    evals: list = field(default_factory=list)
    test_indices: np.ndarray | None = None
    left_indices: list = field(default_factory=list)
    right_indices: list = field(default_factory=list)
    tensor: TTTensor | None = field(default=None, repr=False)

    error = renamed_attribute("relative_error")


# -- evaluations ------------------------------------------------------------------------------
class _BudgetReached(Exception):
    pass


def _call_checked(fn, indices: np.ndarray) -> np.ndarray:
    try:
        out = fn(indices)
    except IndexError as exc:
        raise ValueError(
            f"shape disagrees with fn: fn raised IndexError on indices within shape ({exc})"
        ) from exc
    inner = fn.score_fn if isinstance(fn, OnTemplates) else fn
    name = f"fn {callable_name(inner)!r}"
    values = check_callable_output(to_numpy(out) if tl.is_tensor(out) else out, name, finite=False)
    if values.shape != (len(indices),):
        raise ValueError(
            f"{name} must return one value per index tuple, shape ({len(indices)},), got "
            f"{values.shape}; for a score function with several outputs pass one of them, "
            "e.g. lambda X: net(X)[:, 0]"
        )
    values = values.astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(
            f"{name} returned NaN or inf at {int(bad.sum())} of {len(values)} entries, e.g. at "
            f"index {indices[int(np.argmax(bad))].tolist()}"
        )
    return values


class _Entries:
    """Entries of the black-box tensor, cached: each is evaluated once, within a budget."""

    def __init__(self, fn, d, max_evals, batch_size, n_jobs):
        self.fn, self.max_evals, self.batch_size, self.n_jobs = fn, max_evals, batch_size, n_jobs
        self.cache: dict[bytes, float] = {}
        self.key_dtype = np.dtype(np.int64)
        self.d = d

    @property
    def n_evals(self) -> int:
        return len(self.cache)

    def _keys(self, indices: np.ndarray) -> list[bytes]:
        rows = np.ascontiguousarray(indices, dtype=self.key_dtype)
        return rows.view(np.dtype((np.void, rows.dtype.itemsize * self.d))).ravel().tolist()

    def __call__(self, indices: np.ndarray) -> np.ndarray:
        keys = self._keys(indices)
        cache = self.cache
        todo, seen = [], set()
        for pos, key in enumerate(keys):
            if key not in cache and key not in seen:
                seen.add(key)
                todo.append(pos)
        if todo:
            if self.max_evals is not None and len(cache) + len(todo) > self.max_evals:
                raise _BudgetReached
            new = indices[todo]
            for key, value in zip(
                (keys[p] for p in todo), self._evaluate(new).tolist(), strict=True
            ):
                cache[key] = value
        return np.fromiter((cache[k] for k in keys), dtype=np.float64, count=len(keys))

    def _evaluate(self, indices: np.ndarray) -> np.ndarray:
        n = len(indices)
        if self.n_jobs in (None, 1):
            evaluate = partial(_call_checked, self.fn)
            return np.concatenate(
                evaluate_in_blocks(evaluate, n, lambda block: indices[block], self.batch_size)
            )
        from joblib import Parallel, delayed, effective_n_jobs

        # the active joblib backend (loky, threads, a Dask cluster) says how many workers run
        workers = effective_n_jobs(self.n_jobs)
        size = max(1, min(self.batch_size, math.ceil(n / workers)))
        chunks = [indices[s : s + size] for s in range(0, n, size)]
        parts = Parallel(n_jobs=self.n_jobs)(delayed(_call_checked)(self.fn, c) for c in chunks)
        return np.concatenate(parts)


def _fibre(left: np.ndarray, n: int, right: np.ndarray) -> np.ndarray:
    """All multi-indices (a, i, b), a in left, i < n, b in right, in C order: (ra*n*rb, d)."""
    ra, rb = len(left), len(right)
    parts = [
        np.broadcast_to(left[:, None, None, :], (ra, n, rb, left.shape[1])),
        np.broadcast_to(np.arange(n)[None, :, None, None], (ra, n, rb, 1)),
        np.broadcast_to(right[None, None, :, :], (ra, n, rb, right.shape[1])),
    ]
    return np.concatenate(parts, axis=3).reshape(ra * n * rb, -1)


def tt_entries(tt, indices):
    """Entries ``tt[i_1, ..., i_d]`` of a TT tensor at many multi-indices, without forming it.

    Parameters
    ----------
    tt : TTTensor or list of cores
    indices : int array of shape (N, d)

    Returns
    -------
    tensor of shape (N,)

    Examples
    --------
    >>> import numpy as np
    >>> from tensorly.tt_tensor import TTTensor
    >>> from tensorexpr.cross import tt_entries
    >>> rng = np.random.default_rng(0)
    >>> tt = TTTensor([rng.random((1, 3, 2)), rng.random((2, 4, 2)), rng.random((2, 5, 1))])
    >>> idx = np.array([[0, 1, 2], [2, 3, 4]])
    >>> bool(np.allclose(tt_entries(tt, idx), tt.to_tensor()[tuple(idx.T)]))
    True
    """
    cores = list(tt.factors if isinstance(tt, TTTensor) else tt)
    indices = np.asarray(indices)
    vec = cores[0][0, indices[:, 0], :]
    for k in range(1, len(cores)):
        vec = tl.einsum("na,anb->nb", vec, cores[k][:, indices[:, k], :])
    return vec[:, 0]


# -- input checks -----------------------------------------------------------------------------
def _check_shape(fn, shape, templates) -> tuple[Callable, tuple[int, ...]]:
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if templates is None:
        if shape is None:
            raise ValueError("shape is required for an index function (or pass templates)")
        if isinstance(shape, numbers.Integral) or not isinstance(shape, (Sequence, np.ndarray)):
            raise TypeError(f"shape must be a sequence of d >= 2 ints, got {shape!r}")
        dims = tuple(check_positive_int(s, "shape[k]") for s in shape)
        if len(dims) < 2:
            raise ValueError(f"shape must have d >= 2 modes, got {dims}")
        return fn, dims
    pts = check_templates(templates)
    M = pts.shape[0]
    fn_d = getattr(fn, "d", None)
    if shape is None:
        if not isinstance(fn_d, numbers.Integral):
            raise ValueError("shape (or d as an int) is required when fn has no attribute d")
        d = int(fn_d)
    elif isinstance(shape, numbers.Integral):
        d = check_positive_int(shape, "shape")
    else:
        dims = tuple(check_positive_int(s, "shape[k]") for s in shape)
        if any(s != M for s in dims):
            raise ValueError(f"shape must be (M,) * d with M={M} templates, got {dims}")
        d = len(dims)
    if d < 2:
        raise ValueError(f"shape must have d >= 2 modes, got d={d}")
    if isinstance(fn_d, numbers.Integral) and fn_d != d:
        raise ValueError(f"shape disagrees with fn: fn.d={fn_d}, shape gives d={d}")
    n_inputs = getattr(fn, "n_inputs", None)
    if isinstance(n_inputs, numbers.Integral) and pts.shape[1] != n_inputs:
        raise ValueError(
            f"templates must have shape (M, {n_inputs}) to match fn.n_inputs, got {pts.shape}"
        )
    n_outputs = getattr(fn, "n_outputs", 1)
    if isinstance(n_outputs, numbers.Integral) and n_outputs != 1:
        raise ValueError(
            f"fn has n_outputs={n_outputs}; pass one score, e.g. lambda X: net(X)[:, 0]"
        )
    return OnTemplates(fn, pts), (M,) * d


# -- the cross --------------------------------------------------------------------------------
def _step(Z, cap, tol_local, kick, floor=0):
    """Rank-revealing maxvol of a fibre matrix Z (rows, cols): (rows kept, B, revealed rank).

    The rank rho is revealed by an SVD; the rows are the maxvol rows of the leading
    ``rho + kick`` singular vectors (the next directions are explored, not only the kept ones),
    completed by rectangular maxvol when Z has fewer columns; ``B = U_rho pinv(U_rho[rows])``
    interpolates the kept part: ``Z ~ B Z[rows]``. ``floor``: least number of rows (forced
    growth when the sweeps stall).
    """
    n_rows_all, n_cols = tl.shape(Z)
    u, s, _ = tl.svd(Z, full_matrices=False)
    s = to_numpy(s).astype(np.float64)
    # the smallest rank whose discarded singular values weigh <= tol_local * ||s||, or only
    # rounding errors (eps * s_max * len(s))
    eps_floor = (s[0] * len(s) * np.finfo(np.float64).eps) ** 2 if s.size else 0.0
    rho = rank_from_singular_values(s**2, cap, max(tol_local**2 * float(np.sum(s**2)), eps_floor))
    limit = n_rows_all if cap is None else min(cap, n_rows_all)
    target = int(min(max(rho + kick, floor), limit))
    basis = u[:, : min(target, n_cols)]
    rows, _ = rect_maxvol(basis, target)
    kept = u[:, :rho]
    sub = kept[rows, :]
    coef = tl.solve(tl.dot(tl.transpose(sub), sub), tl.transpose(sub))
    return rows, tl.dot(kept, coef), rho


def tt_cross(
    fn: Callable,
    shape: Sequence[int] | int | None = None,
    *,
    templates=None,
    tol: float | None = None,
    rank: int | Sequence[int] | None = None,
    max_evals: int | None = None,
    max_iter: int = 50,
    kick: int = 2,
    n_test: int = 1000,
    batch_size: int = 10_000,
    n_jobs: int | None = None,
    random_state=None,
    verbose: int = 0,
    n_iter_max=DEPRECATED,
) -> CrossResult:
    """TT approximation of a black-box tensor from a few of its entries (TT-cross).

    Two kinds of black box:

    - an index function: ``fn(indices) -> values``, indices an int array of shape (N, d) with
      ``0 <= indices[:, k] < shape[k]``, values of shape (N,);
    - a score function on templates (``templates`` given): any callable on inputs of shape
      (batch, d, n), a :class:`~tensorexpr.TTNetwork`, :class:`~tensorexpr.HTNetwork`,
      :class:`~tensorexpr.CPNetwork` or any function, approximated through its grid tensor
      ``Gamma[i_1..i_d] = fn(x^(i_1), ..., x^(i_d))`` (docs/theory.md section 2), as
      :func:`~tensorexpr.grid_tensor` would build it densely. ``shape`` is then d (an int), or
      None to read ``fn.d``.

    Each sweep passes over the cores in one direction. At core k the fibre ``Z = fn(I_k x
    [n_k] x J_{k+1})`` is evaluated (cached entries are not asked again), its numerical rank
    is revealed by an SVD truncated at ``tol / sqrt(d - 1)``, and the maximal-volume rows of
    the kept singular vectors (:func:`maxvol`), plus ``kick`` rows of greatest rectangular
    volume (:func:`rect_maxvol`), become the next index set: ranks grow while the revealed
    rank fills the index set and stop growing once it does not; while the held-out error
    stalls every index set grows by ``kick`` and the local truncation tightens. After each
    sweep the relative error on ``n_test`` held-out random entries is measured; the run stops
    when it is ``<= tol``, when ``max_evals`` would be exceeded, when two sweeps evaluate
    nothing new, or after ``max_iter`` sweeps. The result is rounded with
    :func:`~tensorexpr.tt_round` (``tol / 10``, round-off level without ``tol``), so its ranks
    are the revealed ones.

    Parameters
    ----------
    fn : callable
        The index function, or the score function when ``templates`` is given.
    shape : sequence of d >= 2 ints, int, or None
        Mode sizes of the tensor. With ``templates``: d, ``(M,) * d``, or None for ``fn.d``.
    templates : array of shape (M, n), optional
        Template points; makes ``fn`` a score function.
    tol : float in (0, 1) or None
        Target relative error on the held-out entries; None runs to round-off level (until a
        sweep finds nothing new, ``max_evals`` or ``max_iter``).
    rank : int or list of d+1 ints, optional
        Caps on the TT ranks (index-set sizes).
    max_evals : int, optional
        Most distinct entries evaluated (the held-out ones included). Reaching it stops the run
        with a RuntimeWarning stating the error reached; the last complete sweep is returned.
    max_iter : int, default 50
        Most sweeps.
    kick : int, default 2
        Rows added to each index set beyond the revealed rank (rank growth and the margin that
        lets the next sweep see a larger rank).
    n_test : int, default 1000
        Held-out random entries on which the error is measured.
    batch_size : int, default 10000
        Most index tuples per call of ``fn``.
    n_jobs : int, optional
        Evaluate batches in parallel with joblib (-1: all cores). Under
        ``joblib.parallel_config(backend="dask")`` with a ``dask.distributed.Client`` the batches
        run on a Dask cluster; ``fn`` must then be picklable.
    random_state : None, int or numpy Generator
        Draws the first right index sets and the held-out entries; a fixed seed gives the same
        result.
    verbose : int, default 0
        0: silent; >= 1: one line per sweep (ranks, held-out error, evaluations).
    n_iter_max : deprecated
        The old name of ``max_iter`` (a FutureWarning; removed in 0.3).

    Returns
    -------
    CrossResult
        ``.tensor`` (the TT, float64 cores on the current backend), evaluations used,
        held-out ``.relative_error``, ranks and errors per sweep, index sets.

    Raises
    ------
    ValueError
        Bad arguments; ``fn`` returning a wrong shape, NaN or inf; ``max_evals`` spent before
        the first sweep completed.

    References
    ----------
    I. Oseledets, E. Tyrtyshnikov. TT-cross approximation for multidimensional arrays. Linear
    Algebra Appl. 432(1):70-88, 2010. S. A. Goreinov et al. How to find a good submatrix, 2010.
    A. Mikhalev, I. Oseledets. Rectangular maximum-volume submatrices and their applications.
    Linear Algebra Appl. 538:187-211, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> fn = lambda idx: 1.0 / (1.0 + idx.sum(axis=1))      # a Hilbert-like tensor
    >>> result = te.tt_cross(fn, (10,) * 8, tol=1e-6, random_state=0)
    >>> result.converged, result.n_evals < 10**8
    (True, True)
    >>> idx = np.random.default_rng(1).integers(0, 10, size=(100, 8))
    >>> approx = te.cross.tt_entries(result.tensor, idx)
    >>> err = np.linalg.norm(approx - fn(idx)) / np.linalg.norm(fn(idx))
    >>> bool(err < 1e-5)
    True
    """
    max_iter = renamed_value("tt_cross", "n_iter_max", n_iter_max, "max_iter", max_iter)
    fn, dims = _check_shape(fn, shape, templates)
    d = len(dims)
    # a fibre holds the multi-indices of at least one whole mode
    check_size(8 * d * max(dims), f"shape={dims}", "the index fibres of one mode")
    if tol is not None:
        if not isinstance(tol, numbers.Real) or isinstance(tol, bool):
            raise TypeError(f"tol must be a float in (0, 1) or None, got {type(tol).__name__}")
        if not 0.0 < tol < 1.0:
            raise ValueError(f"tol must be in (0, 1), got {tol}")
    caps = check_tt_rank(rank, d)
    if max_evals is not None:
        max_evals = check_positive_int(max_evals, "max_evals")
    max_iter = check_positive_int(max_iter, "max_iter")
    verbose = check_verbose(verbose)
    kick = check_positive_int(kick, "kick", minimum=0)
    n_test = check_positive_int(n_test, "n_test")
    check_size(8 * d * n_test, f"n_test={n_test}", "the held-out test indices")
    batch_size = check_positive_int(batch_size, "batch_size")
    if n_jobs is not None:
        n_jobs = check_positive_int(n_jobs, "n_jobs", minimum=-1)
        if n_jobs == 0:
            raise ValueError("n_jobs must be a positive int, -1 or None, got 0")
    if max_evals is not None and max_evals <= n_test:
        raise ValueError(f"max_evals={max_evals} must exceed n_test={n_test}")
    rng = np.random.default_rng(random_state)
    entries = _Entries(fn, d, max_evals, batch_size, n_jobs)
    # the local SVDs keep a tenth of the target (spread over the d - 1 bonds), so that the
    # truncation alone does not eat the error budget; tightened when the error stalls
    tol_local = (0.1 * tol if tol is not None else 0.0) / math.sqrt(d - 1)
    f64 = float64()

    test_idx = np.stack([rng.integers(0, n, size=n_test) for n in dims], axis=1)
    test_val = entries(test_idx)
    test_norm = float(np.linalg.norm(test_val)) or 1.0

    # nested right index sets J_k over modes k..d-1, drawn at random (one tuple each)
    right = [None] * (d + 1)
    right[d] = np.zeros((1, 0), dtype=np.int64)
    for k in range(d - 1, 0, -1):
        right[k] = np.concatenate(
            [
                rng.integers(0, dims[k], size=(1, 1)),
                right[k + 1][rng.integers(len(right[k + 1]))][None],
            ],
            axis=1,
        )
    left = [None] * (d + 1)
    left[0] = np.zeros((1, 0), dtype=np.int64)

    result = CrossResult(n_evals=0, relative_error=math.inf, converged=False, stop="max_iter")
    best, sets, quiet, forced = None, None, 0, False
    for sweep in range(max_iter):
        ltr = sweep % 2 == 0
        before = entries.n_evals
        cores = [None] * d
        revealed = [1] * (d + 1)
        try:
            for k in range(d) if ltr else range(d - 1, -1, -1):
                lk, rk = left[k], right[k + 1]
                fib = _fibre(lk, dims[k], rk)
                Z = tl.tensor(entries(fib).reshape(len(lk), dims[k], len(rk)), dtype=f64)
                ra, n, rb = len(lk), dims[k], len(rk)
                if ltr and k < d - 1:
                    floor = len(left[k + 1]) + kick if forced and left[k + 1] is not None else 0
                    rows, B, revealed[k + 1] = _step(
                        tl.reshape(Z, (ra * n, rb)), caps[k + 1], tol_local, kick, floor
                    )
                    cores[k] = tl.reshape(B, (ra, n, len(rows)))
                    left[k + 1] = np.concatenate([lk[rows // n], (rows % n)[:, None]], axis=1)
                elif not ltr and k > 0:
                    floor = len(right[k]) + kick if forced else 0
                    rows, B, revealed[k] = _step(
                        tl.transpose(tl.reshape(Z, (ra, n * rb))), caps[k], tol_local, kick, floor
                    )
                    cores[k] = tl.reshape(tl.transpose(B), (len(rows), n, rb))
                    right[k] = np.concatenate([(rows // rb)[:, None], rk[rows % rb]], axis=1)
                else:
                    cores[k] = Z
        except _BudgetReached:
            result.stop = "max_evals"
            break
        tt = TTTensor(cores)
        error = float(np.linalg.norm(to_numpy(tt_entries(tt, test_idx)) - test_val)) / test_norm
        best, sets = tt, (list(left), list(right))  # the sets this TT interpolates on
        result.ranks.append(tuple(revealed))
        result.errors.append(error)
        result.evals.append(entries.n_evals)
        if verbose:
            print(
                f"tt_cross: sweep {sweep + 1}, ranks {tuple(revealed)}, held-out relative error "
                f"{error:.3e}, {entries.n_evals} evaluations",
                flush=True,
            )
        if tol is not None and error <= tol:
            result.stop = "tol"
            break
        quiet = quiet + 1 if entries.n_evals == before else 0
        # a cross can settle on index sets that miss part of the tensor: while the held-out
        # error stalls (no new entries, or not halved over a sweep each way) every index set
        # grows by kick, as in teneva's dr_min
        stalled = quiet > 0 or (len(result.errors) >= 3 and error > 0.5 * result.errors[-3])
        forced = tol is not None and stalled
        if forced:
            # the interpolation amplifies the truncation error by the maxvol factors: a stall
            # can also mean the local truncation is too coarse for tol
            tol_local *= 0.3
        if quiet >= 2:  # two sweeps, one each way, found nothing new: the sets are fixed
            result.stop = "stagnation"
            break
    if best is None:
        raise ValueError(
            f"max_evals={max_evals} was spent before the first sweep completed "
            f"({entries.n_evals} entries evaluated); raise max_evals"
        )
    # rounding drops the kick margin: the ranks returned are the revealed ones
    tt = tt_round(best, tol=0.1 * tol if tol is not None else 100 * np.finfo(np.float64).eps)
    error = float(np.linalg.norm(to_numpy(tt_entries(tt, test_idx)) - test_val)) / test_norm
    result.n_evals, result.relative_error, result.tensor = entries.n_evals, error, tt
    result.converged = tol is not None and error <= tol
    result.test_indices = test_idx
    result.left_indices, result.right_indices = sets
    if tol is not None and not result.converged:
        warnings.warn(
            f"tt_cross stopped ({result.stop}) at held-out relative error {error:.3g} > "
            f"tol={tol:g} after {result.n_evals} evaluations and {len(result.errors)} sweeps",
            RuntimeWarning,
            stacklevel=2,
        )
    elif tol is None and result.stop in ("max_evals", "max_iter"):
        warnings.warn(
            f"tt_cross stopped ({result.stop}) at held-out relative error {error:.3g} after "
            f"{result.n_evals} evaluations",
            RuntimeWarning,
            stacklevel=2,
        )
    return result
