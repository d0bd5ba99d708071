"""Completion from samples: the observed entries, the result object and the rank-growth driver.

The three formats (:func:`~tensorexpr.tt_complete`, :func:`~tensorexpr.ht_complete`,
:func:`~tensorexpr.cp_complete`) share one calling convention and one loop:

- the observed entries are resolved once (:func:`observed_entries`): ``(indices, values,
  shape)`` or a tensor with a boolean ``mask``; bad input (out-of-range or duplicate indices,
  NaN values, an empty slice) is refused or reported here, before any work;
- a random validation split of the observed entries is held out (``validation_fraction``);
- alternating least squares sweeps run on the training entries at a fixed rank until the
  validation error stalls; then every rank grows by one (warm start: the new directions enter
  with zero weight, so the tensor is unchanged) and the sweeps go on; the growth stops at
  ``tol``, when a larger rank no longer lowers the validation error (the best rank is kept), or
  when the next rank would have more parameters than training entries;
- the chosen model is refitted on all observed entries (``refit``).

Every format is a *model* (:class:`TTModel` and its siblings in the other private modules)
that computes in numpy float64 on the samples: a sweep costs a few passes over the samples and
small dense solves, never a dense tensor. The factors go back to the current TensorLy backend,
in the dtype of the values (float32 stays float32), only at the end.

References
----------
L. Grasedyck, M. Kluge, S. Kraemer. Variants of alternating least squares tensor completion in
the tensor train format. SIAM J. Sci. Comput. 37(5):A2424-A2450, 2015 (ALS on the samples, rank
increase by one with a warm start, validation on held-out samples).
"""

from __future__ import annotations

import copy
import math
import numbers
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import tensorly as tl

from .._backend import to_numpy
from .._deprecation import renamed_attribute
from ..validation import check_random_state, check_real
from ._common import check_tol

__all__ = [
    "CompletionResult",
    "ObservedEntries",
    "observed_entries",
    "fit_completion",
    "solve_slices",
    "solve_ridge",
    "check_completion_args",
]

#: A stage (one rank) ends when a sweep lowers the training error by less than this fraction.
STALL = 0.01
#: The same at a fixed rank and in the refit, where no larger rank follows.
STALL_FINAL = 0.001
#: A larger rank is kept only if it lowers the best validation error by at least this fraction.
GAIN = 0.02
#: The growth stops after this many ranks in a row without such a gain (a random tensor's
#: validation error stays near 1 until the rank is reached: one miss is no evidence).
PATIENCE = 3


@dataclass
class CompletionResult:
    """What a completion run returns (:func:`~tensorexpr.tt_complete`,
    :func:`~tensorexpr.ht_complete`, :func:`~tensorexpr.cp_complete`).

    Parameters
    ----------
    tensor : TTTensor, HTTensor or CPTensor
        The completed tensor, factors on the current backend in the dtype of the values.
    ranks : tuple of int, or int
        Its ranks (TT ranks ``r_0..r_d``; HT ranks per tree node in post-order; CP rank).
    train_errors : list of float
        Relative error ``||x(S) - y(S)|| / ||y(S)||`` on the training entries after each sweep.
    validation_errors : list of float
        The same on the held-out validation entries (NaN without a validation split, and for
        the refit sweeps, which train on them).
    sweep_ranks : list
        The ranks during each sweep (the rank growth).
    n_samples : int
        Distinct observed entries used (training + validation).
    n_train, n_validation : int
        Sizes of the split (the refit trains on all ``n_samples``).
    relative_error : float
        Relative error on the validation entries of the rank kept, before the refit (NaN
        without a split); ``validation_error`` before 0.2 (still readable, with a
        FutureWarning).
    converged : bool
        Whether ``relative_error <= tol`` (False without ``tol``).
    stop : str
        Why the rank growth stopped: ``"tol"``, ``"rank"`` (given, or ``max_rank`` reached),
        ``"no_gain"`` (a larger rank did not lower the validation error), ``"samples"`` (the next
        rank has more parameters than training entries) or ``"max_iter"`` (``"n_iter_max"`` before
        0.2).
    n_params : int
        Degrees of freedom of the format at the ranks kept (parameters minus gauge freedom).
    seconds : float
        Wall time of the fit.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> rng = np.random.default_rng(0)
    >>> full = np.einsum("i,j,k->ijk", *rng.random((3, 6)))
    >>> idx = np.argwhere(rng.random(full.shape) < 0.5)
    >>> res = te.tt_complete(idx, full[tuple(idx.T)], full.shape, tol=1e-8, random_state=0)
    >>> res.ranks, res.converged, res.n_samples == len(idx)
    ((1, 1, 1, 1), True, True)
    """

    tensor: object = field(repr=False)
    ranks: object
    train_errors: list = field(default_factory=list)
    validation_errors: list = field(default_factory=list)
    sweep_ranks: list = field(default_factory=list)
    n_samples: int = 0
    n_train: int = 0
    n_validation: int = 0
    relative_error: float = math.nan
    converged: bool = False
    stop: str = "rank"
    n_params: int = 0
    seconds: float = 0.0

    validation_error = renamed_attribute("relative_error")


@dataclass
class ObservedEntries:
    """Observed entries resolved once: int64 indices (N, d), float64 values (N,), the shape,
    and the dtype / backend context the result goes back to."""

    indices: np.ndarray
    values: np.ndarray
    shape: tuple[int, ...]
    context: dict


def _check_shape(shape, d: int | None) -> tuple[int, ...]:
    expected = "a sequence of d >= 2 ints >= 1 (the tensor's mode sizes)"
    if shape is None or isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__"):
        raise TypeError(f"shape must be {expected}, got {shape!r}")
    if any(isinstance(n, bool) or not isinstance(n, numbers.Integral) for n in shape):
        raise TypeError(f"shape must be {expected}, got {shape!r}")
    dims = tuple(int(n) for n in shape)
    if len(dims) < 2 or min(dims) < 1:
        raise ValueError(f"shape must be {expected}, got {dims}")
    if d is not None and len(dims) != d:
        raise ValueError(f"shape has {len(dims)} modes but indices has {d} columns (one per mode)")
    return dims


def _values_context(values) -> dict:
    """Backend context of the result: float32 stays float32, anything else float64."""
    dtype = str(tl.context(values)["dtype"]) if tl.is_tensor(values) else str(values.dtype)
    return {"dtype": getattr(tl.backend, "float32" if "float32" in dtype else "float64")}


def observed_entries(indices_or_tensor, values=None, shape=None, mask=None) -> ObservedEntries:
    """Resolve the two calling conventions into one :class:`ObservedEntries`.

    ``(indices, values, shape)``: indices an int array (N, d), values (N,), shape d ints.
    ``(tensor, mask=mask)``: the entries of ``tensor`` where the boolean ``mask`` is True (the
    other entries may hold anything, NaN included). Duplicate indices are averaged with a
    warning; out-of-range indices and non-finite observed values raise ValueError.
    """
    if mask is not None:
        if values is not None or shape is not None:
            raise TypeError(
                "pass either (indices, values, shape) or (tensor, mask=mask), not both: "
                "values and shape must be None when mask is given"
            )
        tensor = to_numpy(indices_or_tensor, "tensor")
        mask_np = to_numpy(mask, "mask")
        if mask_np.dtype != np.bool_:
            raise TypeError(f"mask must be a boolean array, got dtype {mask_np.dtype}")
        if mask_np.shape != tensor.shape:
            raise ValueError(
                f"mask must have the shape of tensor {tensor.shape}, got {mask_np.shape}"
            )
        dims = _check_shape(tensor.shape, None)
        idx = np.argwhere(mask_np).astype(np.int64)
        vals = tensor[mask_np]
        raw_values = indices_or_tensor
    else:
        if values is None or shape is None:
            raise TypeError(
                "pass the observed entries as (indices, values, shape) with indices an int "
                "array (N, d), or as (tensor, mask=mask) with a boolean mask"
            )
        idx = to_numpy(indices_or_tensor, "indices")
        if idx.ndim != 2:
            raise ValueError(f"indices must be an int array of shape (N, d), got {idx.shape}")
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"indices must be an int array of shape (N, d), got dtype {idx.dtype}")
        dims = _check_shape(shape, idx.shape[1])
        vals = to_numpy(values, "values")
        raw_values = values
        if vals.shape != (len(idx),):
            raise ValueError(
                f"values must have one entry per index row, shape ({len(idx)},), got {vals.shape}"
            )
        idx = idx.astype(np.int64)
        bad = np.any((idx < 0) | (idx >= np.asarray(dims)), axis=1)
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(
                f"indices out of range for shape {dims}: {int(bad.sum())} rows, e.g. row {row} "
                f"= {idx[row].tolist()}; expected 0 <= indices[:, k] < shape[k]"
            )
    if np.iscomplexobj(vals) or not (
        np.issubdtype(vals.dtype, np.number) or vals.dtype == np.bool_
    ):
        raise TypeError(f"values must be real numbers, got dtype {vals.dtype}")
    context = _values_context(raw_values if tl.is_tensor(raw_values) else vals)
    vals = vals.astype(np.float64)
    finite = np.isfinite(vals)
    if not finite.all():
        row = int(np.argmax(~finite))
        raise ValueError(
            f"values must be finite: {int((~finite).sum())} observed entries are NaN or inf, "
            f"e.g. at index {idx[row].tolist()}; leave missing entries out (or out of the mask)"
        )
    if len(idx) == 0:
        raise ValueError("no observed entries: indices (or mask) selects nothing")
    idx, vals = _merge_duplicates(idx, vals, dims)
    return ObservedEntries(idx, vals, dims, context)


def _merge_duplicates(idx: np.ndarray, vals: np.ndarray, dims):
    rows = np.ascontiguousarray(idx)
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first, inverse, counts = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    if len(first) == len(idx):
        return idx, vals
    n_dup = len(idx) - len(first)
    example = idx[first[int(np.argmax(counts > 1))]].tolist()
    warnings.warn(
        f"indices has {n_dup} duplicate rows ({len(first)} distinct entries of {len(idx)}), "
        f"e.g. {example}; expected each entry once: the values of each duplicated entry were "
        "averaged",
        UserWarning,
        stacklevel=3,
    )
    merged = np.bincount(inverse.ravel(), weights=vals) / counts
    return idx[first], merged


def check_completion_args(validation_fraction, regularization, max_iter, tol, max_rank):
    """Shared checks of the tuning arguments; returns them cleaned."""
    validation_fraction = check_real(
        validation_fraction, "validation_fraction", 0.0, 1.0, high_open=True
    )
    regularization = check_real(regularization, "regularization", 0.0)
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral):
        raise TypeError(f"max_iter must be an int >= 1, got {max_iter!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be an int >= 1, got {max_iter}")
    if max_rank is not None and (
        isinstance(max_rank, bool) or not isinstance(max_rank, numbers.Integral) or max_rank < 1
    ):
        raise ValueError(f"max_rank must be None or an int >= 1, got {max_rank!r}")
    return validation_fraction, regularization, int(max_iter), check_tol(tol), max_rank


def solve_ridge(gram: np.ndarray, rhs: np.ndarray, regularization: float) -> np.ndarray:
    """Solve ``(G + lam I) x = b`` for a stack of (p, p) Gram matrices ``G``, with
    ``lam = regularization * trace(G) / p`` per system (a ridge relative to the data's scale,
    so that the solve stays defined when directions are unobserved)."""
    p = gram.shape[-1]
    scale = np.trace(gram, axis1=-2, axis2=-1) / p
    lam = regularization * scale + 1e-300
    eye = np.eye(p)
    return np.linalg.solve(gram + lam[..., None, None] * eye, rhs[..., None])[..., 0]


def solve_slices(design: np.ndarray, y: np.ndarray, groups, regularization: float) -> np.ndarray:
    """Least squares per slice: for each group of sample rows, ``min ||X_g x - y_g||`` (ridge).

    ``groups`` is ``(order, starts)``: the samples sorted by slice and the slice boundaries.
    Returns (n_slices, p). A slice without samples gets zeros.
    """
    order, starts = groups
    n, p = len(starts) - 1, design.shape[1]
    gram = np.zeros((n, p, p))
    rhs = np.zeros((n, p))
    xs, ys = design[order], y[order]
    for i in range(n):
        a, b = starts[i], starts[i + 1]
        if b > a:
            block = xs[a:b]
            gram[i] = block.T @ block
            rhs[i] = ys[a:b] @ block
    return solve_ridge(gram, rhs, regularization)


def slice_groups(indices: np.ndarray, shape) -> list:
    """Per mode: the samples sorted by their index in that mode, and the slice boundaries."""
    groups = []
    for k, n in enumerate(shape):
        order = np.argsort(indices[:, k], kind="stable")
        starts = np.searchsorted(indices[order, k], np.arange(n + 1))
        groups.append((order, starts))
    return groups


def _rel(pred: np.ndarray, y: np.ndarray) -> float:
    if len(y) == 0:
        return math.nan
    norm = float(np.linalg.norm(y))
    res = float(np.linalg.norm(pred - y))
    return res / norm if norm > 0 else res


def _warn_empty_slices(entries: ObservedEntries) -> None:
    for k, n in enumerate(entries.shape):
        counts = np.bincount(entries.indices[:, k], minlength=n)
        if (counts == 0).any():
            empty = np.flatnonzero(counts == 0)
            warnings.warn(
                f"mode {k} has {len(empty)} of {n} slices without any observed entry (e.g. "
                f"index {int(empty[0])}); expected at least one per slice: those slices of the "
                "result are zero (nothing determines them)",
                UserWarning,
                stacklevel=3,
            )


def fit_completion(
    model,
    entries: ObservedEntries,
    *,
    name: str,
    grow: bool,
    tol: float | None,
    validation_fraction: float,
    regularization: float,
    max_iter: int,
    refit: bool,
    rng,
    verbose: int,
) -> CompletionResult:
    """Run the sweeps and the rank growth (module docstring) on a model; returns the result.

    ``model`` has ``sweep(data, regularization)``, ``predict(indices)``, ``grow(rng)`` (False
    when no rank can grow), ``n_params``, ``ranks``, ``init(data, rng)`` and ``to_tensor(ctx)``;
    ``data`` is ``(indices, values, groups)``.
    """
    start = time.perf_counter()
    rng = check_random_state(rng)
    _warn_empty_slices(entries)
    n = len(entries.values)
    n_val = int(round(validation_fraction * n))
    perm = rng.permutation(n)
    val, train = perm[:n_val], perm[n_val:]
    train_data = _data(entries, train)
    val_idx, val_y = entries.indices[val], entries.values[val]
    if model.n_params > len(train):
        warnings.warn(
            f"{name}: {len(train)} training entries for {model.n_params} degrees of freedom "
            f"at ranks {model.ranks}; expected at least as many entries as parameters (more "
            "entries, or a smaller rank): the completion is underdetermined",
            UserWarning,
            stacklevel=3,
        )
    model.init(train_data, rng)
    result = CompletionResult(
        tensor=None, ranks=model.ranks, n_samples=n, n_train=len(train), n_validation=n_val
    )

    def run_stage(data, val_idx, val_y, label, stall):
        best = previous = math.inf
        for sweep in range(max_iter):
            model.sweep(data, regularization)
            tr = _rel(model.predict(data[0]), data[1])
            va = _rel(model.predict(val_idx), val_y) if len(val_y) else math.nan
            result.train_errors.append(tr)
            result.validation_errors.append(va)
            result.sweep_ranks.append(model.ranks)
            if verbose:
                print(
                    f"{name}: {label} sweep {sweep + 1}, ranks {model.ranks}, train error "
                    f"{tr:.3e}, validation error {va:.3e}, {time.perf_counter() - start:.2f} s",
                    flush=True,
                )
            watched = va if len(val_y) else tr
            if tol is not None and watched <= tol:
                return watched, True
            best = min(best, watched)
            # ALS lowers the training error monotonically: a stage ends when it stalls
            if not tr < (1.0 - stall) * previous:
                return best, False
            previous = tr
        result.stop = "max_iter"
        return best, False

    best_err, best_model, misses = math.inf, None, 0
    while True:
        err, reached = run_stage(train_data, val_idx, val_y, "rank", STALL if grow else STALL_FINAL)
        if reached:
            best_err, best_model, result.stop = err, None, "tol"
            break
        if err < (1.0 - GAIN) * best_err:
            best_err, best_model, misses = err, copy.deepcopy(model), 0
        else:
            misses += 1
        if misses >= PATIENCE:
            model = best_model  # larger ranks did not help: keep the best one
            result.stop = "no_gain"
            break
        if not grow:
            result.stop = "rank" if result.stop != "max_iter" else result.stop
            break
        if not model.grow(rng):
            result.stop = "rank"
            break
        if model.n_params > len(train):
            model = best_model
            result.stop = "samples"
            break
    if result.stop in ("no_gain", "samples", "rank") and grow:
        # the kept rank's stage ended at the growth threshold: converge it before the refit
        polished, reached = run_stage(train_data, val_idx, val_y, "polish", STALL_FINAL)
        best_err = min(best_err, polished) if reached or polished < best_err else best_err
    result.relative_error = best_err if n_val else math.nan
    result.converged = tol is not None and best_err <= tol
    if refit and n_val:
        all_data = _data(entries, perm)
        empty = np.zeros((0, len(entries.shape)), dtype=np.int64)
        result_stop = result.stop
        run_stage(all_data, empty, np.zeros(0), "refit", STALL_FINAL)
        result.stop = result_stop
    result.tensor = model.to_tensor(entries.context)
    result.ranks = model.ranks
    result.n_params = model.n_params
    result.seconds = time.perf_counter() - start
    if tol is not None and not result.converged:
        warnings.warn(
            f"{name} stopped ({result.stop}) at validation error {best_err:.3g} > tol={tol:g} "
            f"with ranks {result.ranks} from {n} observed entries",
            RuntimeWarning,
            stacklevel=3,
        )
    return result


def _data(entries: ObservedEntries, rows: np.ndarray):
    idx = entries.indices[rows]
    return idx, entries.values[rows], slice_groups(idx, entries.shape)
