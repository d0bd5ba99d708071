"""GF(p) arithmetic on BLAS for rank certificates: residues of floats, matrix products and
ranks mod p, and an exact rational rank for small checks.

A float64 number is a dyadic rational ``m 2^e``, whose residue mod an odd prime p is
``m * (2^e mod p)``. For an integer matrix B, ``rank_GF(p)(B mod p) <= rank_Q(B)`` (a nonzero
minor mod p is a nonzero integer minor): a rank over GF(p) is a lower bound with no margin
(docs/theory.md 4.4). Primes below 2^20 keep products of residues below 2^40, so float64 BLAS
sums of up to 2^13 of them are exact.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

__all__ = [
    "PRIMES",
    "to_mod",
    "reduce_mod",
    "matmul_mod",
    "small_matmul",
    "rank_mod_p",
    "rank_rational",
    "inverse_mod",
    "gauss_jordan_inverse",
]

#: Primes below 2^20: products of two residues are below 2^40, so float64 sums of up to
#: 2^13 of them are exact, and BLAS computes matrix products mod p exactly in chunks.
PRIMES = (1048573, 1048571, 1048559, 1048549)
_EXACT = 2.0**53
#: Columns per elimination panel.
_PANEL = 512
#: Work bytes of one chunk of a matrix update.
_CHUNK_BYTES = 2**26


def to_mod(array, p: int) -> np.ndarray:
    """Residues mod p (float64 in [0, p)) of the exact values of a float64 array."""
    x = np.asarray(array, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("exact arithmetic needs finite values, got inf or nan")
    mant, expo = np.frexp(x)
    m53 = np.ldexp(mant, 53).astype(np.int64)  # x = m53 * 2^(expo - 53), m53 an integer
    shifts, inverse = np.unique(expo.astype(np.int64) - 53, return_inverse=True)
    powers = np.array([float(pow(2, int(e), p)) for e in shifts])
    out = np.mod(m53, p).astype(np.float64)
    return reduce_mod(out * powers[inverse.reshape(x.shape)], p)


def reduce_mod(x: np.ndarray, p: int) -> np.ndarray:
    """``x mod p`` in [0, p) for float64 integers below 2^53 in magnitude, in place when x
    is a temporary: ``x - p floor(x / p)``, corrected by one p where the rounded quotient
    was off (np.fmod is ~50x slower)."""
    q = np.floor(x * (1.0 / p))
    q *= p
    out = x - q
    out[out < 0] += p
    out[out >= p] -= p
    return out


def matmul_mod(A: np.ndarray, B: np.ndarray, p: int) -> np.ndarray:
    """``A @ B mod p`` for residues in [0, p), exact: float64 BLAS on inner chunks whose
    sums stay below 2^53."""
    inner = A.shape[-1]
    step = max(1, int((_EXACT - 1) // float(p - 1) ** 2))
    if inner <= step:
        return reduce_mod(small_matmul(A, B), p)
    out = np.zeros(A.shape[:-1] + B.shape[1:])
    for start in range(0, inner, step):
        out += reduce_mod(A[..., start : start + step] @ B[start : start + step], p)
        out = reduce_mod(out, p)
    return out


def small_matmul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A @ B``; for an inner dimension of at most 4, as a sum of broadcast products (BLAS
    is slow on tall matrices with a tiny inner dimension, and slower still on a busy
    machine)."""
    inner = A.shape[-1]
    if inner > 4 or A.shape[0] < 4096:
        return A @ B
    out = A[:, :1] * B[:1]
    for k in range(1, inner):
        out += A[:, k : k + 1] * B[k : k + 1]
    return out


def gauss_jordan_inverse(K: np.ndarray, p: int) -> np.ndarray:
    """Inverse mod p of any invertible k x k matrix of residues (row pivoting; O(k^3) in
    numpy row operations, for k up to a few hundred). ValueError when K is singular mod p."""
    k = K.shape[0]
    W = np.concatenate([np.array(K, dtype=np.float64), np.eye(k)], axis=1)
    for j in range(k):
        nz = np.flatnonzero(W[j:, j])
        if not nz.size:
            raise ValueError("the matrix is singular mod p")
        i = j + int(nz[0])
        if i != j:
            W[[j, i]] = W[[i, j]]
        W[j] = reduce_mod(W[j] * float(pow(int(W[j, j]), -1, p)), p)
        col = W[:, j].copy()
        col[j] = 0
        W = reduce_mod(W - np.outer(col, W[j]), p)
    return W[:, k:]


def inverse_mod(K: np.ndarray, p: int) -> np.ndarray:
    """Inverse mod p of a k x k matrix whose leading principal minors are all nonzero (the
    pivot block of :func:`_pivots`, in the order its pivots were found): by 2 x 2 blocks
    and their Schur complement, the products on BLAS; Gauss-Jordan in int64 below 32."""
    k = K.shape[0]
    if k <= 32:
        return gauss_jordan_inverse(K, p)
    h = k // 2
    inv11 = inverse_mod(K[:h, :h], p)
    T = matmul_mod(inv11, K[:h, h:], p)
    U = matmul_mod(K[h:, :h], inv11, p)
    S_inv = inverse_mod(reduce_mod(K[h:, h:] - matmul_mod(K[h:, :h], T, p), p), p)
    B12 = reduce_mod(-matmul_mod(T, S_inv, p), p)
    B21 = reduce_mod(-matmul_mod(S_inv, U, p), p)
    B11 = reduce_mod(inv11 + matmul_mod(-B12 + p, U, p), p)
    return np.block([[B11, B12], [B21, S_inv]])


def _pivots(A: np.ndarray, p: int) -> tuple[list[int], list[int]]:
    """Rows R and columns C with ``A[R, C]`` invertible mod p and ``|R| = rank_p(A)``.

    Blocked elimination: the pivots of a panel of columns (found recursively), then the
    Schur complement ``A' = A[R', C'] - A[R', C] A[R, C]^-1 A[R, C']`` of the rest, by BLAS
    products mod p; ``rank A = |C| + rank A'`` and the panel's other columns vanish in A'.
    A is overwritten.
    """
    n, m = A.shape
    if m <= 16:
        return _small_pivots(A, p)
    rows = np.arange(n)  # original index of each row of A (rows are swapped in place)
    found_rows: list[int] = []
    found_cols: list[int] = []
    top = 0
    panel = min(_PANEL, max(16, m // 4))
    for c0 in range(0, m, panel):
        if top == n:
            break
        c1 = min(c0 + panel, m)
        pr, pc = _pivots(A[top:, c0:c1].copy(), p)
        k = len(pr)
        if not k:
            continue
        pivots = [top + r for r in pr]
        cols = [c0 + c for c in pc]
        if c1 < m and top + k < n:
            # X = A[R, C]^-1 A[R, C'], R and C in the order found (see inverse_mod)
            X = matmul_mod(inverse_mod(A[np.ix_(pivots, cols)], p), A[pivots, c1:], p)
        found_rows.extend(int(rows[r]) for r in pivots)
        found_cols.extend(cols)
        # move the pivot rows to top..top+k (pairwise swaps, no copy of the whole block)
        pset = set(pivots)
        spare = [t for t in range(top, top + k) if t not in pset]
        outside = [r for r in pivots if r >= top + k]
        for t, r in zip(spare, outside, strict=True):
            A[[t, r]] = A[[r, t]]
            rows[[t, r]] = rows[[r, t]]
        if c1 < m and top + k < n:
            chunk = max(1, _CHUNK_BYTES // (8 * max(m - c1, 1)))
            for r0 in range(top + k, n, chunk):
                r1 = min(r0 + chunk, n)
                block = A[r0:r1, c1:]
                block -= matmul_mod(A[r0:r1, cols], X, p)
                block[block < 0] += p
        top += k
    return found_rows, found_cols


def _small_pivots(A: np.ndarray, p: int) -> tuple[list[int], list[int]]:
    """Unblocked elimination with row swaps, in float64 (products of residues < 2^40 are
    exact; the floor-based reduction is faster than integer division)."""
    W = np.array(A, dtype=np.float64)
    n, m = W.shape
    rows = np.arange(n)
    found_rows, found_cols = [], []
    r = 0
    for j in range(m):
        if r == n:
            break
        nz = np.flatnonzero(W[r:, j])
        if not nz.size:
            continue
        i = r + int(nz[0])
        if i != r:
            W[[r, i]] = W[[i, r]]
            rows[[r, i]] = rows[[i, r]]
        W[r, j:] = reduce_mod(W[r, j:] * float(pow(int(W[r, j]), -1, p)), p)
        if r + 1 < n:
            W[r + 1 :, j:] = reduce_mod(W[r + 1 :, j:] - np.outer(W[r + 1 :, j], W[r, j:]), p)
        found_rows.append(int(rows[r]))
        found_cols.append(j)
        r += 1
    return found_rows, found_cols


def rank_mod_p(A, p: int) -> int:
    """Rank over GF(p) of a matrix of residues in [0, p) (a lower bound on the rank over Q
    of any integer matrix with these residues)."""
    A = np.array(A, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"A must be a matrix, got shape {A.shape}")
    if A.shape[0] > A.shape[1]:
        A = np.ascontiguousarray(A.T)
    if not A.size:
        return 0
    return len(_pivots(A, p)[0])


def rank_rational(A) -> int:
    """Exact rank over Q of a matrix of integers or Fractions, by Gaussian elimination in
    Python Fractions: a slow, independent check for small matrices."""
    M = [[Fraction(v) for v in row] for row in np.asarray(A, dtype=object)]
    n = len(M)
    m = len(M[0]) if n else 0
    rank = 0
    for j in range(m):
        pivot = next((i for i in range(rank, n) if M[i][j] != 0), None)
        if pivot is None:
            continue
        M[rank], M[pivot] = M[pivot], M[rank]
        for i in range(rank + 1, n):
            factor = M[i][j] / M[rank][j]
            if factor:
                M[i] = [a - factor * b for a, b in zip(M[i], M[rank], strict=True)]
        rank += 1
    return rank
