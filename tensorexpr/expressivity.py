"""Matricizations, their ranks, and what they certify about network widths.

Every matricization rank of a grid (or coefficient) tensor is a lower bound on its
CP rank, i.e. on the width of an equivalent shallow product network
(PAPERS.md section 4). Ranks that certify a theorem are computed in float64 with a
stated tolerance.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import tensorly as tl

from ._backend import check_tensor, to_numpy

__all__ = ["matricization", "matricization_rank", "MatricizationRank", "row_modes_of"]


def row_modes_of(row_modes, order: int) -> tuple[int, ...]:
    """Resolve ``"odd"`` (modes 1, 3, 5... counted from 1, i.e. 0, 2, 4... from 0),
    ``"even"`` or a sequence of mode indices into a sorted tuple, validated."""
    if isinstance(row_modes, str):
        if row_modes == "odd":
            modes = tuple(range(0, order, 2))
        elif row_modes == "even":
            modes = tuple(range(1, order, 2))
        else:
            raise ValueError(f"row_modes must be 'odd', 'even' or a sequence of ints, got {row_modes!r}")
    else:
        if not isinstance(row_modes, Sequence) and not isinstance(row_modes, np.ndarray):
            raise TypeError(
                f"row_modes must be 'odd', 'even' or a sequence of ints, got {row_modes!r}"
            )
        modes = []
        for mode in row_modes:
            if isinstance(mode, bool) or not isinstance(mode, numbers.Integral):
                raise TypeError(f"row_modes must hold ints, got {mode!r}")
            if not 0 <= mode < order:
                raise ValueError(f"row_modes must be modes in [0, {order}), got {mode}")
            modes.append(int(mode))
        if len(set(modes)) != len(modes):
            raise ValueError(f"row_modes must not repeat a mode, got {list(row_modes)}")
        modes = tuple(sorted(modes))
    if not modes or len(modes) == order:
        raise ValueError(
            f"row_modes must be a non-empty proper subset of the {order} modes, got {modes}"
        )
    return modes


def matricization(tensor, row_modes="odd"):
    """The matrix ``Gamma_(S, T)`` whose rows are indexed by the modes in S.

    Parameters
    ----------
    tensor : tensor of order d >= 2
    row_modes : "odd", "even" or sequence of ints, default "odd"
        S. ``"odd"`` is the modes 1, 3, 5, ... (counted from 1; indices 0, 2, 4, ...),
        the canonical partition of [K18]; the remaining modes index the columns.
        S is a set: rows and columns both list their modes in increasing order.

    Returns
    -------
    tensor of shape (prod of sizes in S, prod of the others)

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import matricization
    >>> matricization(np.arange(8.0).reshape(2, 2, 2), [1]).tolist()
    [[0.0, 1.0, 4.0, 5.0], [2.0, 3.0, 6.0, 7.0]]
    """
    tensor = check_tensor(tensor, "tensor")
    shape = tuple(tl.shape(tensor))
    if len(shape) < 2:
        raise ValueError(f"tensor must have order >= 2 to be matricized, got shape {shape}")
    rows = row_modes_of(row_modes, len(shape))
    cols = tuple(k for k in range(len(shape)) if k not in rows)
    n_rows = int(np.prod([shape[k] for k in rows]))
    return tl.reshape(tl.transpose(tensor, rows + cols), (n_rows, -1))


@dataclass(frozen=True)
class MatricizationRank:
    """A numerical rank with what makes it trustworthy.

    Attributes
    ----------
    rank : int
        Number of singular values above ``tol``.
    tol : float
        The threshold used.
    singular_values : ndarray
        All singular values, descending (float64).
    row_modes : tuple of int
        The modes indexing the rows.
    shape : tuple of int
        Shape of the matricization.
    """

    rank: int
    tol: float
    singular_values: np.ndarray
    row_modes: tuple[int, ...]
    shape: tuple[int, int]

    @property
    def gap(self) -> float:
        """``sigma_rank / sigma_(rank+1)``: how far the rank is from ambiguous (inf if clean)."""
        s = self.singular_values
        if self.rank == 0 or self.rank >= len(s) or s[self.rank] == 0:
            return float("inf")
        return float(s[self.rank - 1] / s[self.rank])

    def __int__(self) -> int:
        return self.rank

    def __index__(self) -> int:
        return self.rank


def matricization_rank(tensor_or_network, row_modes="odd", tol: float | None = None,
                       templates=None) -> MatricizationRank:
    """Numerical rank of a matricization, in float64, with its tolerance.

    Parameters
    ----------
    tensor_or_network : tensor or network
        A tensor, or a network: its coefficient tensor W (product networks, when no
        templates are given) or its grid tensor on ``templates``.
    row_modes : "odd", "even" or sequence of ints, default "odd"
        See :func:`matricization`.
    tol : float, optional
        Absolute threshold on singular values. Default
        ``sigma_max * max(shape) * eps(float64)`` (as numpy.linalg.matrix_rank).
    templates : array of shape (M, n), optional
        Templates for a network's grid tensor.

    Returns
    -------
    MatricizationRank
        ``.rank``, ``.tol``, ``.singular_values``, ``.gap``.

    Notes
    -----
    The singular values are computed by LAPACK in float64 on a numpy copy whatever
    the backend, so the certificate is the same on every backend.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import matricization_rank
    >>> T = np.einsum("i,j,k,l->ijkl", *[np.ones(2)] * 4) + np.eye(4).reshape(2, 2, 2, 2)
    >>> matricization_rank(T, "odd").rank
    2
    """
    from .networks import _Network

    if isinstance(tensor_or_network, _Network):
        net = tensor_or_network
        if templates is None:
            tensor = net.coefficient_tensor()
        else:
            tensor = net.grid_tensor(templates)
        if net.n_outputs > 1:
            raise ValueError(
                "matricization_rank needs a single-output network; "
                f"this one has n_outputs={net.n_outputs}"
            )
    else:
        if templates is not None:
            raise ValueError("templates are only used with a network, not with a tensor")
        tensor = tensor_or_network
    mat = to_numpy(matricization(tensor, row_modes)).astype(np.float64)
    rows = row_modes_of(row_modes, len(tl.shape(check_tensor(tensor))))
    s = np.linalg.svd(mat, compute_uv=False)
    if tol is None:
        tol = float(s[0] * max(mat.shape) * np.finfo(np.float64).eps) if s.size else 0.0
    elif not isinstance(tol, numbers.Real) or not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    return MatricizationRank(
        rank=int(np.sum(s > tol)),
        tol=float(tol),
        singular_values=s,
        row_modes=rows,
        shape=tuple(mat.shape),
    )
