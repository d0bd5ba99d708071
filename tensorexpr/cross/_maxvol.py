"""Maximal-volume submatrices: square maxvol (Goreinov et al.) and rectangular maxvol
(Mikhalev & Oseledets), on the current tensorly backend."""

from __future__ import annotations

import numpy as np
import tensorly as tl

from .._backend import to_numpy

__all__ = ["maxvol", "rect_maxvol"]


def maxvol(A, tol: float = 1.05, max_iter: int = 100) -> tuple[np.ndarray, object]:
    """Rows of a tall matrix spanning a submatrix of (locally) maximal volume.

    Starts from the pivots of Gaussian elimination with partial pivoting, then swaps one row
    at a time while some coefficient ``|B[i, j]|`` exceeds ``tol`` (each swap multiplies the
    volume ``|det A[rows]|`` by ``|B[i, j]|``).

    Parameters
    ----------
    A : tensor of shape (N, r), N >= r
        Full column rank (an orthonormal basis is the well-conditioned choice).
    tol : float >= 1, default 1.05
        Stop when every coefficient is at most ``tol`` in modulus.
    max_iter : int, default 100
        Most row swaps.

    Returns
    -------
    rows : ndarray of r ints
        The chosen rows.
    B : tensor of shape (N, r)
        Coefficients ``B = A A[rows]^{-1}``: ``B[rows] = I`` and ``|B| <= tol``.

    References
    ----------
    Goreinov, Oseledets, Savostyanov, Tyrtyshnikov, Zamarashkin. How to find a good submatrix.
    2010.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr.cross import maxvol
    >>> A = np.array([[1.0, 0.0], [0.0, 0.1], [0.5, 2.0], [0.2, 0.2]])
    >>> rows, B = maxvol(A)
    >>> sorted(rows.tolist()), bool(np.abs(B).max() <= 1.05)
    ([0, 2], True)
    """
    N, r = tl.shape(A)
    if N < r:
        raise ValueError(f"A must be tall (N >= r), got shape {(N, r)}")
    # partial pivoting: r elimination steps on a residual copy
    residual = A
    rows: list[int] = []
    for j in range(r):
        column = np.abs(to_numpy(residual[:, j]))
        column[rows] = -1.0
        i = int(np.argmax(column))
        rows.append(i)
        pivot_row = residual[i, :]
        residual = residual - tl.dot(
            tl.reshape(residual[:, j] / pivot_row[j], (N, 1)), tl.reshape(pivot_row, (1, r))
        )
    B = tl.transpose(tl.solve(tl.transpose(A[np.asarray(rows), :]), tl.transpose(A)))
    for _ in range(max_iter):
        absB = np.abs(to_numpy(B))
        i, j = np.unravel_index(int(np.argmax(absB)), absB.shape)
        if absB[i, j] <= tol:
            break
        # A[rows] with row j replaced by row i: rank-one update of B (Sherman-Morrison)
        unit = tl.tensor(np.eye(r)[j], **tl.context(B))
        B = B - tl.dot(tl.reshape(B[:, j], (N, 1)), tl.reshape(B[i, :] - unit, (1, r))) / B[i, j]
        rows[j] = int(i)
    return np.asarray(rows, dtype=np.int64), B


def rect_maxvol(
    A, n_rows: int, tol: float = 1.05, max_iter: int = 100
) -> tuple[np.ndarray, object]:
    """``n_rows >= r`` rows of a tall matrix with (greedily) maximal rectangular volume.

    :func:`maxvol` gives r rows; each further row is the one of largest norm in the current
    coefficient matrix ``B = A pinv(A[rows])``, which maximises the growth of
    ``det(A[rows]^T A[rows])``.

    Parameters
    ----------
    A : tensor of shape (N, r)
    n_rows : int, r <= n_rows <= N
    tol, max_iter : as in :func:`maxvol`

    Returns
    -------
    rows : ndarray of n_rows ints
    B : tensor of shape (N, n_rows)
        ``B = A pinv(A[rows])``, so that ``A = B A[rows]`` for a full-column-rank A.

    References
    ----------
    Mikhalev, Oseledets. Rectangular maximum-volume submatrices and their applications.
    Linear Algebra Appl. 538:187-211, 2018 (Algorithm 2).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr.cross import rect_maxvol
    >>> A = np.random.default_rng(0).standard_normal((20, 3))
    >>> rows, B = rect_maxvol(A, 5)
    >>> len(set(rows.tolist())), bool(np.allclose(B @ A[rows], A))
    (5, True)
    """
    N, r = tl.shape(A)
    if not r <= n_rows <= N:
        raise ValueError(f"n_rows must be in [{r}, {N}] for A of shape {(N, r)}, got {n_rows}")
    rows, B = maxvol(A, tol, max_iter)
    rows = rows.tolist()
    norms2 = np.sum(to_numpy(B) ** 2, axis=1)
    norms2[rows] = -np.inf
    for _ in range(r, n_rows):
        i = int(np.argmax(norms2))
        b_i = B[i, :]
        v = tl.dot(B, b_i)
        v_np = to_numpy(v)
        scale = 1.0 / (1.0 + v_np[i])
        column = tl.reshape(v * scale, (N, 1))
        B = tl.concatenate([B - tl.dot(column, tl.reshape(b_i, (1, -1))), column], axis=1)
        norms2 = norms2 - scale * v_np**2
        norms2[i] = -np.inf
        rows.append(i)
    return np.asarray(rows, dtype=np.int64), B
