"""TT, HT and CP decompositions of a ``dask.array.Array``, chunk by chunk (docs/larger_than_memory).

Every pass over the data maps one function over the chunks (``Array.to_delayed``) and sums the
small per-chunk results with a tree of ``dask.delayed`` additions; ``dask.compute`` runs it on
the active scheduler (threads by default, a ``distributed.Client`` when one exists). The tensor
is never gathered. Dask is imported only here, and only when a dask array is passed.

- TT (2 passes): one pass of the streaming TT approximation (two-sided TT sketches of every
  unfolding at once; Kressner, Vandereycken, Voorhaar 2023), rounded in memory within half the
  budget, then one pass projecting the tensor on the left cores: the best last core, and the
  error by Pythagoras. A sketch too small for the budget is doubled and the passes repeated.
- HT: the TT above at half the budget, converted exactly to HT and rounded with the other half.
- CP (3 passes): randomized range of every mode at once (Khatri-Rao sketches), one pass to
  project on them (a small Tucker core), ALS on the core in memory, factors lifted back; a third
  pass (each mode's product with the Khatri-Rao product of the other factors) corrects every
  factor outside its range at once, to first order exactly (``_refine``).
"""

from __future__ import annotations

import logging
import math
import operator
from functools import reduce

import numpy as np
import tensorly as tl
from tensorly.cp_tensor import CPTensor
from tensorly.tt_tensor import TTTensor

from ..validation import check_positive_int, check_random_state, check_size
from ._common import CHUNKED, GRAM_SAFETY, check_tol, check_tt_rank
from ._cp import CPResult, cp
from ._ht import ht_round, tt_to_ht
from ._tt import tt_round

__all__ = ["dask_tt_svd", "dask_ht_svd", "dask_cp"]

LOGGER = logging.getLogger("tensorexpr.decomposition")

#: Sketch size of the first try with a tolerance only: doubled while the budget is missed or the
#: rank found exceeds half of it (measured at rank 5: error 1.45-1.8x the optimal one with 16, 1.15x
#: with 24).
FIRST_SKETCH = 24
#: Left sketches have OVERSAMPLE times the columns of the right ones (Kressner et al. 2023, 4.2).
OVERSAMPLE = 2
#: Sums of chunk results per addition in the reduction tree.
FAN_IN = 8
#: Columns of the CP mode sketches: rank + CP_EXTRA. Without the correction pass the error was
#: 2.3-3x the noise with rank + 10 and 2.0x with 2 rank + 10 (rank 5, 63^5, 1e-6 noise); with it,
#: 1.000x the in-memory ALS error with rank + 5, rank + 10 and 2 rank + 10 alike (noise 1e-6 to
#: 0.1, orders 4 and 5): the smaller core makes the ALS cheaper.
CP_EXTRA = 10


# ----------------------------------------------------------------------------- passes


def _offsets(chunks):
    """Start index of every block along every mode."""
    return [np.concatenate([[0], np.cumsum(c)[:-1]]).astype(int) for c in chunks]


def _tree_sum(parts):
    import dask

    add = dask.delayed(_add, pure=True)
    while len(parts) > 1:
        parts = [add(*parts[i : i + FAN_IN]) for i in range(0, len(parts), FAN_IN)]
    return parts[0]


def _add(*parts):
    return [reduce(operator.add, items) for items in zip(*parts, strict=True)]


def _one_pass(tensor, chunk_function, data):
    """``sum over chunks of chunk_function(block, starts, block_index, dtype, data)``.

    ``data`` (small arrays) is sent once, not once per chunk.
    """
    import dask

    blocks = tensor.to_delayed()
    starts = _offsets(tensor.chunks)
    shared = dask.delayed(data, traverse=False)
    function = dask.delayed(chunk_function, pure=True)
    parts = [
        function(
            blocks[index],
            tuple(int(s[i]) for s, i in zip(starts, index, strict=True)),
            index,
            tensor.dtype,
            shared,
        )
        for index in np.ndindex(*tensor.numblocks)
    ]
    (result,) = dask.compute(_tree_sum(parts))
    return result


def _checked_block(block, index, dtype):
    """The block as float64, after checking what the dask array promised about it."""
    if not isinstance(block, np.ndarray) or block.dtype != dtype:
        kind = getattr(block, "dtype", type(block).__name__)
        raise TypeError(
            f"tensor: chunk {index} holds {kind}, but the dask array declares dtype {dtype} "
            "(its meta does not match its chunks; build it with the chunks' real dtype)"
        )
    block = block.astype(np.float64, copy=False)
    flat = block.reshape(-1)
    squares = float(np.dot(flat, flat))
    if not math.isfinite(squares):
        raise ValueError(
            f"tensor must contain only finite values (no NaN or inf): chunk {index} does not"
        )
    return block, squares


def check_dask_tensor(tensor, min_ndim: int):
    """A real dask array of order >= min_ndim with a float, int or bool dtype."""
    if tensor.dtype.kind not in "fiub" or tensor.dtype.itemsize > 8:
        raise TypeError(
            f"tensor must be a dask array of real numbers (float, int or bool), got dtype "
            f"{tensor.dtype}"
        )
    if tensor.ndim < min_ndim:
        raise ValueError(f"tensor must have order >= {min_ndim}, got shape {tensor.shape}")
    if any(math.isnan(n) for n in tensor.shape):
        raise ValueError("tensor must have known chunk sizes (call tensor.compute_chunk_sizes())")
    if 0 in tensor.shape:
        raise ValueError(f"tensor must not be empty, got shape {tensor.shape}")


def _out_dtype(tensor):
    return np.float32 if tensor.dtype == np.float32 else np.float64


# ----------------------------------------------------------------------------- TT


def _tt_sketch_sizes(shape, size):
    """Right (``l_k``) and left (``lt_k``) sketch sizes per bond k = 0..d-2."""
    d = len(shape)
    right, left = [], []
    for k in range(d - 1):
        rows, cols = math.prod(shape[: k + 1]), math.prod(shape[k + 1 :])
        right.append(min(size, rows, cols))
        left.append(min(OVERSAMPLE * right[-1], rows))
    return right, left


def _tt_sketch_cores(shape, size, rng):
    """Gaussian TT cores of the right sketch (modes 1..d-1) and the left one (modes 0..d-2)."""
    d = len(shape)
    right, left = _tt_sketch_sizes(shape, size)
    right_ends, left_ends = right + [1], [1] + left
    omega = [None] + [
        rng.standard_normal((right_ends[k - 1], shape[k], right_ends[k])) / math.sqrt(shape[k])
        for k in range(1, d)
    ]
    psi = [
        rng.standard_normal((left_ends[k], shape[k], left_ends[k + 1])) / math.sqrt(shape[k])
        for k in range(d - 1)
    ]
    return omega, psi


def _interface_flops(b, left_ends, right_ends, m):
    """Multiply-adds of :func:`_tt_sketch_chunk` with the block split before mode ``m``."""
    d, n = len(b), math.prod(b)
    flops = n * (right_ends[m - 1] + left_ends[m])  # the two products with the whole block
    flops += sum(math.prod(b[: j + 1]) * left_ends[j] * left_ends[j + 1] for j in range(m))
    flops += sum(math.prod(b[j:]) * right_ends[j - 1] * right_ends[j] for j in range(m, d))
    flops += sum(math.prod(b[: k + 1]) * right_ends[k - 1] * right_ends[k] for k in range(1, m))
    flops += sum(left_ends[k] * math.prod(b[k:]) * right_ends[k] for k in range(m, d))
    flops += sum(left_ends[k] * math.prod(b[k:]) * left_ends[k + 1] for k in range(m, d - 1))
    return flops


def _tt_sketch_chunk(block, starts, index, dtype, sketch):
    """``Y_k = Psi_{<k}^T X Omega_{>k}`` of one chunk for every k, and its squared norm.

    The chunk, as a matrix with modes ``< m`` as rows and ``>= m`` as columns, meets the sketches
    twice, each time as one matrix product: ``A = X Omega_{>=m}`` gives every ``Y_k`` with
    ``k < m`` (contracting ``A`` further from its right, as small products), and
    ``B = Psi_{<m}^T X`` every ``Y_k`` with ``k >= m`` (contracting ``B`` further from its left).
    ``m`` is the split with the fewest multiply-adds; ``Psi_{<m}`` and ``Omega_{>=m}`` restricted
    to the chunk are formed explicitly (``prod(b_<m)`` and ``prod(b_>=m)`` rows).
    """
    shape, omega, psi = sketch
    block, squares = _checked_block(block, index, dtype)
    b, d = block.shape, block.ndim
    left_ends = [1] + [p.shape[2] for p in psi]
    right_ends = [w.shape[0] for w in omega[1:]] + [1]
    cut = [slice(s, s + n) for s, n in zip(starts, b, strict=True)]
    m = min(range(1, d), key=lambda j: _interface_flops(b, left_ends, right_ends, j))
    # Psi_{<k} on the chunk, (b_0 .. b_{k-1}, lt_{k-1}) for k <= m
    lefts = [np.ones((1, 1))]
    for k in range(m):
        p = psi[k][:, cut[k], :]
        lefts.append((lefts[-1] @ p.reshape(p.shape[0], -1)).reshape(-1, p.shape[2]))
    # Omega_{>k} on the chunk, (b_{k+1} .. b_{d-1}, l_k) for k >= m - 1
    rights = {d - 1: np.ones((1, 1))}
    for k in range(d - 1, m - 1, -1):
        w = np.tensordot(omega[k][:, cut[k], :], rights[k], axes=(2, 1))  # (l, b_k, rest)
        rights[k - 1] = w.transpose(1, 2, 0).reshape(-1, w.shape[0])
    sketches = [None] * d
    flat = block.reshape(math.prod(b[:m]), -1)
    # k < m: R_k = X Omega_{>k}, (b_0 .. b_k, l_k), from R_{m-1} = A down
    r = flat @ rights[m - 1]
    for k in range(m - 1, -1, -1):
        r = r.reshape(-1, b[k], r.shape[-1])
        y = np.zeros((left_ends[k], shape[k], r.shape[2]))
        y[:, cut[k], :] = np.tensordot(lefts[k], r, axes=(0, 0))
        sketches[k] = y
        if k:
            w = omega[k][:, cut[k], :]
            r = r.reshape(r.shape[0], -1) @ w.reshape(w.shape[0], -1).T
    # k >= m: N_k = Psi_{<k}^T X, (lt_{k-1}, b_k .. b_{d-1}), from N_m = B up
    nk = lefts[m].T @ flat
    for k in range(m, d):
        nk = nk.reshape(left_ends[k], b[k], -1)
        y = np.zeros((left_ends[k], shape[k], right_ends[k]))
        y[:, cut[k], :] = nk @ rights[k]
        sketches[k] = y
        if k < d - 1:
            p = psi[k][:, cut[k], :]
            nk = p.reshape(-1, p.shape[2]).T @ nk.reshape(-1, nk.shape[2])
    return sketches + [np.array(squares)]


def _tt_from_sketches(sketches, psi):
    """STTA cores ``Y_0, Z_0^+ Y_1, ..., Z_{d-2}^+ Y_{d-1}`` (Kressner et al. 2023, Alg. 4.1)."""
    cores = [sketches[0]]
    for k in range(1, len(sketches)):
        p = psi[k - 1]
        z = np.einsum("aib,aic->bc", p, sketches[k - 1])  # Psi_{<=k-1}^T X Omega_{>k-1}
        y = sketches[k]
        sol, *_ = np.linalg.lstsq(z, y.reshape(y.shape[0], -1), rcond=None)
        cores.append(sol.reshape(z.shape[1], y.shape[1], y.shape[2]))
    return TTTensor(cores)


def _tt_project_chunk(block, starts, index, dtype, cores):
    """The chunk's part of ``L^T X_{<d-1}``: the tensor projected on the left cores 0..d-2."""
    block, _ = _checked_block(block, index, dtype)
    left = np.ones((1, 1))
    for core, s, n in zip(cores, starts, block.shape[:-1], strict=False):
        c = core[:, s : s + n, :]
        left = (left @ c.reshape(c.shape[0], -1)).reshape(-1, c.shape[2])
    last = np.zeros((left.shape[1], cores[-1].shape[1]))
    b, s = block.shape[-1], starts[-1]
    last[:, s : s + b] = left.T @ block.reshape(-1, b)
    return [last]


def _tt_residual_chunk(block, starts, index, dtype, cores):
    """``||X - TT||^2`` on one chunk (the TT restricted to the chunk's index ranges)."""
    block, _ = _checked_block(block, index, dtype)
    part = np.ones((1, 1))
    for core, s, n in zip(cores, starts, block.shape, strict=True):
        c = core[:, s : s + n, :]
        part = (part @ c.reshape(c.shape[0], -1)).reshape(-1, c.shape[2])
    diff = block.ravel() - part.ravel()
    return [np.array(float(np.dot(diff, diff)))]


def _numpy_tt(tt):
    return [np.asarray(tl.to_numpy(core), dtype=np.float64) for core in tt.factors]


def _to_backend_tt(cores, dtype):
    return TTTensor([tl.tensor(np.asarray(core, dtype=dtype)) for core in cores])


def _check_sketch_memory(shape, size):
    right, left = _tt_sketch_sizes(shape, size)
    n_bytes = (
        8 * 3 * sum(lt * n * r for lt, n, r in zip([1] + left, shape, right + [1], strict=True))
    )
    check_size(n_bytes, f"sketch size {size}", f"the TT sketches of a tensor of shape {shape}")


def _tt_of_dask(tensor, rank, tol, rng):
    """TT of a dask tensor: ``(cores as numpy arrays, squared norm, passes, error^2 or None)``."""
    shape = tuple(int(n) for n in tensor.shape)
    caps = check_tt_rank(rank, len(shape))
    largest = max(
        min(math.prod(shape[: k + 1]), math.prod(shape[k + 1 :])) for k in range(len(shape) - 1)
    )
    bound = max(c for c in caps[1:-1]) if all(c is not None for c in caps[1:-1]) else None
    size = min(largest, FIRST_SKETCH if bound is None else bound + FIRST_SKETCH // 2)
    passes = 0
    while True:
        _check_sketch_memory(shape, size)
        omega, psi = _tt_sketch_cores(shape, size, rng)
        *sketches, norm2 = _one_pass(tensor, _tt_sketch_chunk, (shape, omega, psi))
        passes, norm2 = passes + 1, float(norm2)
        if norm2 == 0.0:
            zero = [np.zeros((1, n, 1)) for n in shape]
            return zero, norm2, passes, 0.0
        tt = tt_round(_tt_from_sketches(sketches, psi), rank=rank, tol=half(tol))
        cores = _numpy_tt(tt)
        full = size >= largest
        if tol is not None and not full and max(tt.rank) > size // 2:
            size = min(2 * size, largest)  # a sketch under twice the rank found loses accuracy
            continue
        # the best last core for the left-orthonormal cores 0..d-2; then, by Pythagoras,
        # ||X - tt||^2 = ||X||^2 - ||last||^2 (resolved down to ~ sqrt(eps) relative errors)
        (last,) = _one_pass(tensor, _tt_project_chunk, cores[:-1] + [cores[-1][..., 0]])
        cores[-1] = last[:, :, None]
        passes += 1
        err2 = max(norm2 - float(np.sum(last * last)), 0.0)
        if tol is not None and tol**2 < GRAM_SAFETY * np.finfo(np.float64).eps:
            (err2,) = _one_pass(tensor, _tt_residual_chunk, cores)
            passes, err2 = passes + 1, float(err2)
        if tol is None or err2 <= tol**2 * norm2 or full:
            return cores, norm2, passes, err2
        size = min(2 * size, largest)


def half(tol):
    """Budget of the in-memory rounding: half the tolerance (None stays None)."""
    return None if tol is None else tol / 2


def dask_tt_svd(tensor, rank=None, tol=None, random_state=0):
    """:func:`tt_svd` of a dask array (module docstring); same return type."""
    check_dask_tensor(tensor, 1)
    tol = check_tol(tol)
    d = tensor.ndim
    check_tt_rank(rank, d)
    if tol is None and rank is None:
        raise ValueError(
            "tol or rank must be given for a dask tensor (an untruncated TT-SVD needs the "
            "whole tensor in memory)"
        )
    if d == 1:
        check_size(8 * tensor.shape[0], "tensor", f"a vector of shape {tensor.shape}")
        vec = tensor.compute()
        return _to_backend_tt(
            [np.asarray(vec, dtype=np.float64).reshape(1, -1, 1)], _out_dtype(tensor)
        )
    cores, _, passes, err2 = _tt_of_dask(tensor, rank, tol, check_random_state(random_state))
    LOGGER.info("tt_svd (dask): %d passes over tensor, squared error %s", passes, err2)
    return _to_backend_tt(cores, _out_dtype(tensor))


# ----------------------------------------------------------------------------- HT


def dask_ht_svd(tensor, tree=None, rank=None, tol=None, random_state=0):
    """:func:`ht_svd` of a dask array: TT at ``tol / 2``, exact HT, HT rounding (module doc)."""
    check_dask_tensor(tensor, 2)
    tol = check_tol(tol)
    if tol is None:
        raise ValueError(
            "tol must be given for a dask tensor (rank caps alone are not supported on the "
            "chunked path of ht_svd)"
        )
    cores, _, passes, err2 = _tt_of_dask(tensor, None, tol / 2, check_random_state(random_state))
    # ||tt|| <= (1 + tol/2) ||tensor||: rounding tt within tol/2 / (1 + tol/2) keeps the total
    # error within tol ||tensor||
    ht = tt_to_ht(_to_backend_tt(cores, _out_dtype(tensor)), tree)
    ht = ht_round(ht, rank=rank, tol=(tol / 2) / (1 + tol / 2))
    LOGGER.info("ht_svd (dask): %d passes over tensor, squared TT error %s", passes, err2)
    return ht


# ----------------------------------------------------------------------------- CP


def _cp_mode_chunk(block, starts, index, dtype, factors):
    """``X_(n) KR(others)`` of one chunk for every mode n, and its squared norm.

    Column j of every sketch contracts the chunk with column j of the other modes' factors:
    right partial contractions ``R_n`` (modes > n contracted) are formed once from the last mode
    down, then each mode meets the product of the left factors' rows.
    """
    block, squares = _checked_block(block, index, dtype)
    d, b = block.ndim, block.shape
    cuts = [f[s : s + n] for f, s, n in zip(factors, starts, b, strict=True)]
    size = cuts[0].shape[1]
    right = [None] * d
    right[d - 1] = block.reshape(-1, b[d - 1], 1)
    right[d - 2] = (block.reshape(-1, b[d - 1]) @ cuts[d - 1]).reshape(-1, b[d - 2], size)
    for n in range(d - 3, -1, -1):
        merged = np.einsum("pij,ij->pj", right[n + 1], cuts[n + 1])
        right[n] = merged.reshape(-1, b[n], size)
    out, left = [], np.ones((1, size))
    for n in range(d):
        y = np.zeros((factors[n].shape[0], size))
        if n == d - 1:
            y[starts[n] : starts[n] + b[n]] = block.reshape(-1, b[n]).T @ left
        else:
            y[starts[n] : starts[n] + b[n]] = np.einsum("pij,pj->ij", right[n], left)
            left = (left[:, None, :] * cuts[n][None, :, :]).reshape(-1, size)
        out.append(y)
    return out + [np.array(squares)]


def _cp_core_chunk(block, starts, index, dtype, bases):
    """The chunk's part of the Tucker core ``X x_1 Q_1^T ... x_d Q_d^T``."""
    block, _ = _checked_block(block, index, dtype)
    core = block
    for s, q in zip(starts[::-1], bases[::-1], strict=True):
        n = core.shape[-1]
        # contracting the trailing mode prepends the new one: after d steps (l_0, ..., l_{d-1});
        # one matrix product a mode, its output C-ordered (no batched small products, no copy)
        core = (q[s : s + n].T @ core.reshape(-1, n).T).reshape(q.shape[1], *core.shape[:-1])
    return [core]


def dask_cp(tensor, rank, n_restarts=3, random_state=None, max_iter=100, **parafac_kwargs):
    """:func:`cp` of a dask array (module docstring): a :class:`CPResult` whose
    ``relative_error`` is measured against the whole tensor, and whose ``restart_errors`` are
    those of the ALS runs on the compressed core."""
    check_dask_tensor(tensor, 2)
    rank = check_positive_int(rank, "rank")
    rng = check_random_state(random_state)
    shape = tuple(int(n) for n in tensor.shape)
    sizes = [min(rank + CP_EXTRA, n) for n in shape]
    check_size(8 * math.prod(sizes), f"rank={rank}", f"the compressed CP core of shape {sizes}")
    size = max(sizes)
    sketch = [rng.standard_normal((n, size)) for n in shape]
    *ranges, norm2 = _one_pass(tensor, _cp_mode_chunk, sketch)
    bases = [np.linalg.qr(y)[0][:, :s] for y, s in zip(ranges, sizes, strict=True)]
    (core,) = _one_pass(tensor, _cp_core_chunk, bases)
    norm2 = float(norm2)
    fitted = cp(
        tl.tensor(core),
        rank,
        n_restarts=n_restarts,
        random_state=rng,
        max_iter=max_iter,
        **parafac_kwargs,
    )
    small = fitted.cp_tensor
    weights = np.asarray(tl.to_numpy(small.weights), dtype=np.float64)
    core_factors = [np.asarray(tl.to_numpy(f), dtype=np.float64) for f in small.factors]
    core_factors[0] = core_factors[0] * weights  # the weights in mode 0: A_0 = Q_0 B_0 diag(w)
    lifted = [q @ b for q, b in zip(bases, core_factors, strict=True)]
    # <X, cp> = <P X, cp> = <core, small> for the cp in the projector's range
    inner = float(np.sum(core * tl.to_numpy(small.to_tensor())))
    # pass 3: the mode products X_(n) KR_{m != n}(A_m) with the lifted factors
    *products, _ = _one_pass(tensor, _cp_mode_chunk, lifted)
    factors, inner = _refine(bases, lifted, products, inner)
    # ||X - cp||^2 = ||X||^2 - 2 <X, cp> + ||cp||^2
    err2 = max(norm2 - 2.0 * inner + _cp_inner(factors, factors), 0.0)
    rel_error = math.sqrt(err2 / norm2) if norm2 > 0 else 0.0
    LOGGER.info("cp (dask): 3 passes over tensor, relative error %.3e", rel_error)
    dtype = _out_dtype(tensor)
    norms = [np.linalg.norm(f, axis=0) for f in factors]
    weights = np.prod(norms, axis=0)
    factors = [f / np.where(n > 0, n, 1.0) for f, n in zip(factors, norms, strict=True)]
    cp_tensor = CPTensor(
        (tl.tensor(weights.astype(dtype)), [tl.tensor(f.astype(dtype)) for f in factors])
    )
    return CPResult(cp_tensor, rel_error, list(fitted.restart_errors))


def _cp_inner(left, right):
    """``<cp(left), cp(right)>`` of two CP tensors (unit weights) from their factors."""
    gram = reduce(operator.mul, [a.T @ b for a, b in zip(left, right, strict=True)])
    return float(np.sum(gram))


def _refine(bases, lifted, products, inner):
    """One first-order-exact correction of the lifted factors out of the bases' ranges.

    With every other factor fixed, the least-squares factor of mode n is
    ``W_n H_n^{-1}`` (``W_n = X_(n) KR_{m != n}(A_m)``, ``H_n`` the Hadamard product of the
    other factors' Gram matrices). Its part outside ``range(Q_n)`` is what the compressed core
    could not see: ``D_n = (I - Q_n Q_n^T) W_n H_n^{-1}``. To first order the d corrections live
    in mutually orthogonal parts of the tensor space (mode n outside ``Q_n``, the others
    inside), so making them all at once is the joint least-squares step. Returns the corrected
    factors and ``<X, cp>`` for them: the terms with one correction exactly from the ``W_n``,
    those with several (second order) from the corrected cp itself (their error is
    ``<X - cp, .>``, third order).
    """
    d = len(lifted)
    grams = [a.T @ a for a in lifted]
    corrections = []
    for n in range(d):
        others = reduce(operator.mul, [grams[m] for m in range(d) if m != n])
        outside = products[n] - bases[n] @ (bases[n].T @ products[n])
        corrections.append(np.linalg.lstsq(others, outside.T, rcond=None)[0].T)  # @ H_n^{-1}
    new = [a + dn for a, dn in zip(lifted, corrections, strict=True)]

    def one_correction(y_products):
        """Terms of <Y, cp_new> - <Y, cp_old> with one correction, from Y's mode products."""
        return sum(float(np.sum(dn * y)) for dn, y in zip(corrections, y_products, strict=True))

    # the second- and higher-order terms of <Y, cp_new> - <Y, cp_old>, for Y = cp_new
    new_products = [
        new[n] @ reduce(operator.mul, [new[m].T @ lifted[m] for m in range(d) if m != n])
        for n in range(d)
    ]
    higher = _cp_inner(new, new) - _cp_inner(new, lifted) - one_correction(new_products)
    return new, inner + one_correction(products) + higher


CHUNKED.update(tt_svd=dask_tt_svd, ht_svd=dask_ht_svd, cp=dask_cp)
