"""Shared pieces of the decompositions: argument checks and the truncated left SVD.

The truncated left SVD picks its route by the accuracy requested:

- ``"gram"``: eigenvectors of ``C C^T`` for a wide ``C`` (one pass over ``C``). Forming the Gram
  matrix squares the singular values, so singular values below ``~sqrt(eps) sigma_max`` are lost.
  It is used only when the discarded part to be resolved is far above that level.
- ``"qr"``: QR of ``C^T`` (or of ``C`` when tall), then the SVD of the small triangular factor:
  backward stable, like a full SVD, at the price of a QR.
- ``"svd"``: LAPACK's SVD, for nearly square matrices.
"""

from __future__ import annotations

import numbers

import numpy as np
import tensorly as tl

from .._backend import dot_t
from ..validation import check_rank

__all__: list[str] = []

# Gram route with a tolerance: the squared budget must exceed GRAM_SAFETY * p * eps * ||C||^2,
# so that the rounding of C C^T (absolute ~ p eps ||C||^2 per eigenvalue) is < 0.1% of it.
GRAM_SAFETY = 1e3
# A matrix is "wide" (Gram or QR of the transpose) when it has WIDE times more columns than rows.
WIDE = 4


def eps_of(tensor) -> float:
    """Machine epsilon of a tensor's dtype."""
    return float(
        np.finfo(np.float32 if "float32" in str(tl.context(tensor)["dtype"]) else np.float64).eps
    )


def squared_norm(tensor, name: str = "tensor") -> float:
    """``||tensor||^2`` as a float; raises ValueError if it is not finite (NaN or inf inside)."""
    vec = tl.reshape(tensor, (-1,))
    value = float(tl.to_numpy(tl.dot(vec, vec)))
    if not np.isfinite(value):
        raise ValueError(
            f"{name} must contain only finite values (no NaN or inf), and its norm must not "
            "overflow"
        )
    return value


def check_tol(tol, name: str = "tol") -> float | None:
    """None, or a float in the open interval (0, 1)."""
    if tol is None:
        return None
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"{name} must be None or a float in (0, 1), got {tol!r}")
    tol = float(tol)
    if not 0.0 < tol < 1.0:
        raise ValueError(f"{name} must be a float in the open interval (0, 1), got {tol}")
    return tol


def check_tt_rank(rank, d: int) -> list[int | None]:
    """TT rank caps r_0..r_d (None: no cap).

    An int caps r_1..r_{d-1}; a list has d+1 ints with ends 1.
    """
    if rank is None:
        return [1] + [None] * (d - 1) + [1]
    what = f"d+1 = {d + 1} ints >= 1 with rank[0] = rank[-1] = 1"
    caps = check_rank(rank, d + 1, what)
    if isinstance(caps, int):
        return [1] + [caps] * (d - 1) + [1]
    if caps[0] != 1 or caps[-1] != 1:
        raise ValueError(f"rank must be a positive int or a list of {what}, got {caps}")
    return caps


def check_ht_rank(rank, tree, root_rank: int = 1) -> list[int | None]:
    """HT rank caps per tree node in post-order (root entry = root rank; None: no cap)."""
    if rank is None:
        caps: list[int | None] = [None] * tree.n_nodes
    else:
        what = f"one int >= 1 per tree node ({tree.n_nodes} in post-order, root entry {root_rank})"
        caps = check_rank(rank, tree.n_nodes, what)
        if isinstance(caps, int):
            caps = [caps] * tree.n_nodes
        elif caps[tree.root] != root_rank:
            raise ValueError(f"rank must be a positive int or a list of {what}, got {caps}")
    caps[tree.root] = root_rank
    return caps


def rank_from_singular_values(s2: np.ndarray, cap: int | None, delta2: float | None) -> int:
    """Smallest k >= 1 with sum(s2[k:]) <= delta2 (all of s2 if delta2 is None), capped at cap.

    ``s2`` are squared singular values in decreasing order.
    """
    k = len(s2)
    if delta2 is not None:
        # tails[i] = sum(s2[i:]); tails[len] = 0
        tails = np.concatenate([np.cumsum(s2[::-1])[::-1], [0.0]])
        k = max(1, int(np.argmax(tails <= delta2)))
    if cap is not None:
        k = min(k, cap)
    return max(k, 1)


def _scale_rows(s, vt):
    return tl.reshape(s, (-1, 1)) * vt


def truncated_left_svd(
    matrix,
    cap: int | None = None,
    delta2: float | None = None,
    route: str = "auto",
    norm2: float | None = None,
    gram=None,
):
    """Leading left singular vectors ``U`` of a matrix and ``W = U^T matrix``.

    Parameters
    ----------
    matrix : tensor of shape (p, q)
    cap : int or None
        Largest rank kept.
    delta2 : float or None
        Squared Frobenius budget of the discarded part: the rank kept is the smallest ``k``
        with ``||matrix - U W||^2 <= delta2`` (then capped by ``cap``); None keeps ``min(p, q)``.
    route : {"auto", "gram", "qr", "svd"}
        Force a route (tests); "auto" picks by shape and accuracy (module docstring).
    norm2 : float or None
        ``||matrix||^2`` if the caller knows it: skips a Gram pass doomed to be rejected.
    gram : tensor or None
        ``matrix matrix^T`` if the caller computed it already.

    Returns
    -------
    U : tensor (p, k), orthonormal columns
    W : tensor (k, q)
    tail2 : float
        ``||matrix - U W||^2`` (from the singular values, or checked from W on the Gram route).
    route : str
        The route taken.
    """
    p, q = tl.shape(matrix)
    if route == "auto":
        route = "gram" if p * WIDE <= q else ("qr" if q * WIDE <= p else "svd")
        if (
            route == "gram"
            and delta2 is not None
            and norm2 is not None
            and delta2 < GRAM_SAFETY * p * eps_of(matrix) * norm2
        ):
            route = "qr"
    if route == "gram":
        result = _gram_route(matrix, cap, delta2, gram)
        if result is not None:
            return result
        route = "qr"
    if route == "qr" and p <= q:
        # C^T = Q R  =>  C = R^T Q^T; the left singular vectors of C are those of R^T (p x p)
        _, r_factor = tl.qr(tl.transpose(matrix))
        u, s, _ = tl.svd(tl.transpose(r_factor), full_matrices=False)
        s2 = tl.to_numpy(s).astype(np.float64) ** 2
        k = rank_from_singular_values(s2, cap, delta2)
        u = u[:, :k]
        return u, dot_t(u, matrix, transpose_a=True), float(np.sum(s2[k:])), "qr"
    if route == "qr":
        q_factor, r_factor = tl.qr(matrix)
        u, s, vt = tl.svd(r_factor, full_matrices=False)
        s2 = tl.to_numpy(s).astype(np.float64) ** 2
        k = rank_from_singular_values(s2, cap, delta2)
        return (tl.dot(q_factor, u[:, :k]), _scale_rows(s[:k], vt[:k]), float(np.sum(s2[k:])), "qr")
    u, s, vt = tl.svd(matrix, full_matrices=False)
    s2 = tl.to_numpy(s).astype(np.float64) ** 2
    k = rank_from_singular_values(s2, cap, delta2)
    return u[:, :k], _scale_rows(s[:k], vt[:k]), float(np.sum(s2[k:])), "svd"


def gram_rank(lam: np.ndarray, cap: int | None, delta2: float | None, eps: float) -> int | None:
    """Rank kept from the eigenvalues ``lam`` (decreasing, >= 0) of a Gram matrix ``C C^T``,
    or None when the Gram matrix cannot deliver the accuracy requested."""
    p = len(lam)
    norm2 = float(np.sum(lam))
    if delta2 is not None and delta2 < GRAM_SAFETY * p * eps * norm2:
        return None  # the tail at the budget's level is rounding noise in C C^T
    k = rank_from_singular_values(lam, cap, delta2)
    if k < p:
        # rank only: the kept singular values must be resolved, sigma_k >= eps^(1/4) sigma_1,
        # so that the subspace error ~ eps sigma_1 / sigma_k stays below eps^(3/4)
        if delta2 is None and not lam[k - 1] >= np.sqrt(eps) * lam[0]:
            return None
    return k


def _gram_route(matrix, cap, delta2, gram=None):
    """The Gram route, or None when the accuracy requested is out of its reach."""
    p, q = tl.shape(matrix)
    eps = eps_of(matrix)
    if gram is None:
        gram = dot_t(matrix, matrix, transpose_b=True)
    lam, vecs = tl.eigh(gram)
    lam = np.clip(tl.to_numpy(lam).astype(np.float64)[::-1], 0.0, None)
    norm2 = float(np.sum(lam))
    k = gram_rank(lam, cap, delta2, eps)
    if k is None:
        return None
    u = tl.flip(vecs[:, p - k :], axis=1)
    w = dot_t(u, matrix, transpose_a=True)
    if k == p:
        return u, w, 0.0, "gram"
    flat = tl.reshape(w, (-1,))
    tail2 = max(norm2 - float(tl.to_numpy(tl.dot(flat, flat))), 0.0)
    if delta2 is not None and tail2 > delta2 and (cap is None or k < cap):
        return None  # rounding went against us: take the accurate route
    return u, w, tail2, "gram"


#: The chunked (Dask) forms of tt_svd, ht_svd and cp, registered by ._dask when the package
#: loads (the module imports the in-memory ones; a registry keeps them from importing it back)
CHUNKED: dict = {}


def is_dask_array(tensor) -> bool:
    """Whether ``tensor`` is a ``dask.array.Array`` (checked without importing dask)."""
    return type(tensor).__module__.startswith("dask.array") and type(tensor).__name__ == "Array"
