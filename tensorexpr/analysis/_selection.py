"""Choosing the rows and columns of a certificate's submatrix: structured sub-grids, greedy
pivoted QR on a random pool, or random tuples (docs/expressivity.md)."""

from __future__ import annotations

import numpy as np

from ._exact import mode_tuples


# -- choosing rows and columns --------------------------------------------------------------
def structured_subsets(entries, S, T, max_size):
    """Per-mode template subsets: the pivot templates on ``p`` modes of each side, one
    template on the others (those modes are frozen), with ``|U|^p <= max_size``."""
    U = entries.pivot_templates()[:max_size]
    q = len(U)
    p = max(1, int(np.floor(np.log(max_size) / np.log(q) + 1e-9))) if q > 1 else len(S)
    # one more mode takes part of U, so that the rows fill max_size
    partial = U[: max_size // q**p] if q > 1 else U
    subsets = [None] * entries.d
    for side in (S, T):
        for j, k in enumerate(side):
            subsets[k] = U if j < p else partial if j == p else U[:1]
    return subsets


def fits_whole(entries, S, T, max_size) -> bool:
    """Whether every tuple over the pivot templates fits in max_size rows and columns."""
    q = len(entries.pivot_templates())
    return max(len(S), len(T)) * np.log(max(q, 1)) <= np.log(max_size) + 1e-9


def random_tuples(rng, M, n_modes, k):
    total = M**n_modes if n_modes * np.log(M) < 40 else None
    if total is not None and total <= 10**7:
        flat = rng.choice(total, size=min(k, total), replace=False)
        return np.stack(np.unravel_index(np.sort(flat), (M,) * n_modes), axis=1)
    tuples = np.unique(rng.integers(0, M, size=(k, n_modes)), axis=0)
    return tuples


def pivot_columns(A: np.ndarray, k: int) -> np.ndarray:
    """Columns of A chosen by QR with column pivoting (greedy volume), at most k."""
    import scipy.linalg

    _, _, perm = scipy.linalg.qr(A, mode="economic", pivoting=True)
    return perm[: min(k, A.shape[1], A.shape[0])]


def select_tuples(entries, S, T, selection, max_size, rng, oversample):
    """Row tuples, column tuples, and the submatrix when it came for free (else None)."""
    _d, M = entries.d, entries.M
    if selection == "structured":
        subsets = structured_subsets(entries, S, T, max_size)
        rows, cols = mode_tuples(subsets, S), mode_tuples(subsets, T)
        return rows, cols, subsets
    if selection == "random":
        k = max_size
        return random_tuples(rng, M, len(S), k), random_tuples(rng, M, len(T), k), None
    # pivoted: candidates from the structured templates, greedy pivoted QR on a pool,
    # rows first (on random columns), then columns (on the chosen rows)
    U = entries.pivot_templates()
    q = len(U)
    k = max_size
    cols = U[random_tuples(rng, q, len(T), k)]
    pool = U[random_tuples(rng, q, len(S), oversample * k)]
    A = entries.submatrix(pool, cols, S)
    rows = pool[np.sort(pivot_columns(A.T, k))]
    pool = np.unique(
        np.concatenate([cols, U[random_tuples(rng, q, len(T), oversample * k)]]), axis=0
    )
    A = entries.submatrix(rows, pool, S)
    cols = pool[np.sort(pivot_columns(A, k))]
    return rows, cols, None
