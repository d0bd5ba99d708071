"""Matricizations, their ranks, and what they certify about network widths.

Every matricization rank of a grid (or coefficient) tensor is a lower bound on its
CP rank, i.e. on the width of an equivalent shallow product network
(docs/theory.md section 4). Ranks that certify a theorem are computed in float64 with a
stated tolerance.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import tensorly as tl

from .._backend import (
    DEFAULT_MEMORY_LIMIT,
    check_memory,
    dense_bytes,
    format_bytes,
    to_numpy,
)
from .._deprecation import DEPRECATED, renamed_argument, renamed_attribute, renamed_value
from ..operators import get_operator, operator_names
from ..validation import (
    check_memory_limit,
    check_positive_int,
    check_size,
    check_tensor,
)
from ._inputs import AnalysisInput, resolve_input, row_modes_of
from .certificates import WidthCertificate, certify_matricization_rank, choose_method

#: Routes of matricization_rank and shallow_width_lower_bound.
METHODS = ("auto", "dense", "submatrix", "exact")

__all__ = [
    "matricization",
    "matricization_rank",
    "MatricizationRank",
    "row_modes_of",
    "network_tensor",
    "shallow_width_lower_bound",
    "ShallowWidthBound",
    "width_conversion_bounds",
    "WidthConversion",
]


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

    Returned by :func:`matricization_rank`; the fields are its constructor parameters.

    Parameters
    ----------
    rank : int
        Number of singular values above ``atol``.
    atol : float
        The absolute singular-value threshold used (``tol`` before 0.2: still readable, with a
        FutureWarning).
    singular_values : ndarray
        All singular values, descending (float64).
    row_modes : tuple of int
        The modes indexing the rows.
    shape : tuple of int
        Shape of the matricization.
    method : str
        ``"dense"`` (the whole matricization), ``"submatrix"`` (a certified submatrix:
        ``rank`` is a lower bound, ``atol`` the rigorous margin of docs/theory.md 4.4,
        ``singular_values`` those of the submatrix) or ``"exact"`` (an exact submatrix:
        ``rank`` is its rank over GF(p), a lower bound; ``atol`` is 0).
    certificate : WidthCertificate or None
        The certificate (methods ``"submatrix"`` and ``"exact"``).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import matricization_rank
    >>> res = matricization_rank(np.eye(4).reshape(2, 2, 2, 2), [0, 1])
    >>> res.rank, res.gap, int(res)
    (4, inf, 4)
    """

    rank: int
    atol: float
    singular_values: np.ndarray
    row_modes: tuple[int, ...]
    shape: tuple[int, int]
    method: str = "dense"
    certificate: WidthCertificate | None = None

    tol = renamed_attribute("atol")

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


def matricization_rank(
    source=None,
    row_modes="odd",
    atol: float | None = None,
    templates=None,
    method: str = "auto",
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    random_state=None,
    tol=DEPRECATED,
    tensor_or_network=DEPRECATED,
    **submatrix_options,
) -> MatricizationRank:
    """Numerical rank of a matricization, in float64, with its tolerance.

    Parameters
    ----------
    source : tensor or network
        A tensor (dense, TT or HT), or a network: its coefficient tensor W (product networks,
        when no templates are given) or its grid tensor on ``templates``.
    row_modes : "odd", "even" or sequence of ints, default "odd"
        See :func:`matricization`.
    atol : float >= 0, optional
        Absolute threshold on singular values. Default
        ``sigma_max * max(shape) * eps(float64)`` (as numpy.linalg.matrix_rank).
    templates : array of shape (M, n), optional
        Templates for a network's grid tensor.
    method : {"auto", "dense", "submatrix", "exact"}, default "auto"
        ``"dense"`` forms the whole matricization; ``"submatrix"`` certifies a lower bound
        on the rank from one submatrix with a rigorous floating-point margin
        (:func:`tensorexpr.analysis.certificates.certify_matricization_rank`, docs/theory.md 4.4);
        ``"exact"`` computes that submatrix exactly and its rank over GF(p) (no margin);
        ``"auto"`` takes the route of least estimated cost
        (:func:`tensorexpr.analysis.certificates.choose_method`).
    memory_limit : int
        Bytes allowed for the dense route and the submatrices.
    random_state : None, int or numpy Generator
        For the submatrix's random choices.
    tol : deprecated
        The old name of ``atol`` (a FutureWarning; removed in 0.3): in tensorexpr ``tol`` is a
        relative error.
    tensor_or_network : deprecated
        The old name of ``source`` (a FutureWarning; removed in 0.3).
    **submatrix_options
        ``selection``, ``max_size``, ``oversample``, ``entry_error`` of
        :func:`~tensorexpr.analysis.certificates.certify_matricization_rank`.

    Returns
    -------
    MatricizationRank
        ``.rank``, ``.atol``, ``.singular_values``, ``.gap``, ``.method``, ``.certificate``.

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
    atol = renamed_value("matricization_rank", "tol", tol, "atol", atol)
    source = renamed_argument(
        "matricization_rank", "tensor_or_network", tensor_or_network, "source", source
    )
    source = resolve_input(source, templates, memory_limit=memory_limit)
    if submatrix_options and method == "dense":
        raise TypeError(f"options {sorted(submatrix_options)} need method='submatrix' or 'auto'")
    resolved = _resolve_method(method, source, memory_limit, row_modes)
    if resolved in ("submatrix", "exact"):
        if atol is not None:
            raise ValueError(f"atol is not used by method={resolved!r} (its margin is rigorous)")
        cert = certify_matricization_rank(
            source,
            row_modes=row_modes,
            random_state=random_state,
            memory_limit=memory_limit,
            exact=resolved == "exact",
            **submatrix_options,
        )
        return _from_certificate(cert)
    tensor = _dense(source, memory_limit)
    mat = to_numpy(matricization(tensor, row_modes)).astype(np.float64)
    rows = row_modes_of(row_modes, source.d)
    s = np.linalg.svd(mat, compute_uv=False)
    if atol is None:
        atol = float(s[0] * max(mat.shape) * np.finfo(np.float64).eps) if s.size else 0.0
    elif not isinstance(atol, numbers.Real) or not np.isfinite(atol) or atol < 0:
        raise ValueError(f"atol must be a finite number >= 0, got {atol!r}")
    return MatricizationRank(
        rank=int(np.sum(s > atol)),
        atol=float(atol),
        singular_values=s,
        row_modes=rows,
        shape=tuple(mat.shape),
    )


#: Float64 copies of a network's dense tensor alive during a matricization rank: the tensor,
#: its transposed matricization, and LAPACK's work copy in the SVD.
_DENSE_COPIES = 3


def network_tensor(net, templates=None, memory_limit: int = DEFAULT_MEMORY_LIMIT):
    """The dense tensor a bound on ``net`` is computed from: the coefficient tensor W (product
    network, no templates) or the grid tensor on ``templates``, after checking that it and the
    SVD's copies of it fit in ``memory_limit`` bytes (ValueError saying how much they need).
    ``net`` may be an already resolved input (then ``templates`` is its own)."""
    memory_limit = check_memory_limit(memory_limit)
    source = resolve_input(net, templates, name="net")
    if source.kind != "network":
        raise TypeError(f"net must be a CP / TT / HT network, got {type(source.value).__name__}")
    net, templates = source.value, source.templates
    if templates is None:
        size, what = net.n_features, "coefficient tensor W"
    else:
        size, what = len(templates), "grid tensor"
    shape = (size,) * net.d + ((net.n_outputs,) if net.n_outputs > 1 else ())
    need = _DENSE_COPIES * dense_bytes(shape)
    one = format_bytes(need // _DENSE_COPIES)
    check_memory(
        need,
        memory_limit,
        f"the {what} of this network ({size}^{net.d} entries, {one} each) with the copies the "
        "SVD of its matricization makes",
    )
    if templates is None:
        return net.coefficient_tensor(memory_limit=memory_limit)
    return net.grid_tensor(templates, memory_limit=memory_limit)


def _resolve_method(method: str, source: AnalysisInput, memory_limit, row_modes="odd") -> str:
    """``"dense"``, ``"submatrix"`` or ``"exact"``; "auto" by the estimated cost of each
    (:func:`tensorexpr.analysis.certificates.choose_method`)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    memory_limit = check_memory_limit(memory_limit)
    if method != "auto":
        # a network's dense route is size-checked, with its own message, by network_tensor
        return method
    return choose_method(source, row_modes=row_modes, memory_limit=memory_limit)


def _dense(source: AnalysisInput, memory_limit):
    """The dense tensor of a resolved network or tensor input."""
    if source.kind == "tensor":
        return source.value
    return network_tensor(source, memory_limit=memory_limit)


def _from_certificate(cert: WidthCertificate) -> MatricizationRank:
    M = cert.n_templates
    return MatricizationRank(
        rank=cert.rank,
        atol=cert.margin,
        singular_values=cert.singular_values,
        row_modes=cert.row_modes,
        shape=(M ** len(cert.row_modes), M ** (cert.d - len(cert.row_modes))),
        method="exact" if cert.exact else "submatrix",
        certificate=cert,
    )


# -- shallow-width lower bounds (docs/theory.md 5.1, 5.2, 5.4) ----------


@dataclass(frozen=True)
class ShallowWidthBound:
    """A certified lower bound on the width of an equivalent (generalized) shallow network.

    ``bound = ceil(rank / term_rank)``: a shallow network of width R has matricization rank
    ``<= R * term_rank`` over the partition, so ``R >= bound``. Returned by
    :func:`shallow_width_lower_bound`; the fields are its constructor parameters.

    Parameters
    ----------
    bound : int
        The lower bound on the width R.
    rank : int
        Numerical rank of the matricization that gives the bound.
    row_modes : tuple of int
        Modes indexing the rows of that matricization.
    atol : float
        Absolute singular-value threshold of the rank (``tol`` before 0.2: still readable,
        with a FutureWarning).
    gap : float
        ``sigma_rank / sigma_(rank+1)`` (inf if clean): large means the rank is trustworthy.
    xi : str
        The operator of the shallow networks the bound is about.
    term_rank : int
        Largest matricization rank of one shallow term (1 for product, ``M d / 2`` for
        relu_max on the odd/even partition, 2 for relu_sum).
    ranks : dict
        Rank found on every partition tried (row modes -> rank).
    method : str
        ``"dense"``, ``"submatrix"`` or ``"exact"`` (then ``rank`` is a certified lower
        bound).
    certificate : WidthCertificate or None
        For the submatrix and exact methods: the certificate of the partition giving the
        bound (``certificate.diagnostic``: the feature matrix's rank and condition).

    Examples
    --------
    >>> import tensorexpr as te
    >>> net = te.TTNetwork.random(4, te.LinearFeatures(2, 2, random_state=0), 2, random_state=0)
    >>> res = te.shallow_width_lower_bound(net)
    >>> res.bound, res.row_modes
    (4, (0, 2))
    """

    bound: int
    rank: int
    row_modes: tuple[int, ...]
    atol: float
    gap: float
    xi: str
    term_rank: int
    ranks: dict
    method: str = "dense"
    certificate: WidthCertificate | None = None

    tol = renamed_attribute("atol")

    def __int__(self) -> int:
        return self.bound

    def __index__(self) -> int:
        return self.bound


def _shallow_xi(source: AnalysisInput, xi) -> str:
    """The operator of the shallow networks compared with: a network's own (``xi`` must
    agree), ``xi`` or "product" for a tensor."""
    if source.kind == "tensor":
        return "product" if xi is None else get_operator(xi).name
    own = source.value.xi.name
    if xi is not None and get_operator(xi).name != own:
        raise ValueError(
            f"xi={xi!r} differs from the network's xi={own!r}; the bound compares "
            "with shallow networks of the network's own operator"
        )
    return own


def shallow_width_lower_bound(
    source=None,
    templates=None,
    xi: str | None = None,
    partitions: Sequence = ("odd",),
    atol: float | None = None,
    method: str = "auto",
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    random_state=None,
    tol=DEPRECATED,
    network_or_tensor=DEPRECATED,
    **submatrix_options,
) -> ShallowWidthBound:
    """Certified lower bound on the width of a shallow network equal to a network or tensor.

    For xi = product (docs/theory.md 5.1-5.2) every matricization rank is a lower bound on the CP
    rank, i.e. on the width; the largest over ``partitions`` is returned. For xi = relu_max
    (docs/theory.md 5.4, [K19] Thm 5.2) one term ``max(z_1[i_1], ..., z_d[i_d], 0)`` has rank
    ``<= M min(|S|, |T|)`` over a partition (S, T) (``M d / 2`` for odd/even), hence the bound
    ``ceil(rank / (M d / 2))``; ``max`` is the same, and relu_sum terms have rank <= 2.

    Parameters
    ----------
    source : network or tensor
        A single-output CP / TT / HT network, or a tensor (a grid or coefficient tensor;
        dense, TT or HT).
    templates : array of shape (M, n), optional
        For a network: the grid tensor on these templates is analysed. Required for a
        generalized network; for a product network the coefficient tensor W is used when
        omitted.
    xi : str, optional
        Operator of the shallow networks compared with. A network's own xi by default (a
        different value is an error); ``"product"`` for a tensor.
    partitions : sequence, default ("odd",)
        Row modes of each matricization tried: ``"odd"``, ``"even"`` or sequences of ints.
    atol : float >= 0, optional
        Absolute singular-value threshold (default: ``sigma_max * max(shape) * eps``);
        dense method only.
    method : {"auto", "dense", "submatrix", "exact"}, default "auto"
        As in :func:`matricization_rank`: the submatrix method certifies the rank from one
        submatrix with a rigorous margin (docs/theory.md 4.4), the exact method from its
        exact entries and their rank over GF(p); "auto" takes the route of least
        estimated cost (:func:`tensorexpr.analysis.certificates.choose_method`).
    memory_limit : int
        Bytes allowed for the dense route.
    random_state : None, int or numpy Generator
        For the submatrix's random choices.
    tol : deprecated
        The old name of ``atol`` (a FutureWarning; removed in 0.3).
    network_or_tensor : deprecated
        The old name of ``source`` (a FutureWarning; removed in 0.3).
    **submatrix_options
        ``selection``, ``max_size``, ``oversample``, ``entry_error`` of
        :func:`~tensorexpr.analysis.certificates.certify_matricization_rank`.

    Returns
    -------
    ShallowWidthBound
        ``.bound``, ``.rank``, ``.row_modes``, ``.atol``, ``.gap``, ``.method`` and, for the
        submatrix method, ``.certificate`` (check it with
        :func:`tensorexpr.verify_width_certificate`).

    Raises
    ------
    ValueError
        For an xi with no known bound (softplus), a generalized network without templates,
        or a multi-output network.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> witness = 1.0 - np.eye(9).reshape(3, 3, 3, 3).transpose(0, 2, 1, 3)  # J - I
    >>> te.shallow_width_lower_bound(witness, xi="relu_max").bound  # ceil(9 / (3 * 2))
    2
    >>> te.shallow_width_lower_bound(witness).bound  # product: the rank itself
    9
    """
    atol = renamed_value("shallow_width_lower_bound", "tol", tol, "atol", atol)
    source = renamed_argument(
        "shallow_width_lower_bound", "network_or_tensor", network_or_tensor, "source", source
    )
    source = resolve_input(source, templates, memory_limit=memory_limit)
    xi_name = _shallow_xi(source, xi)
    term_rank = get_operator(xi_name).term_rank
    if term_rank is None:
        supported = [n for n in operator_names() if get_operator(n).term_rank is not None]
        raise ValueError(
            f"no shallow-width lower bound is known for xi={xi_name!r}; supported: "
            f"{supported} (an operator registered with term_rank=...)"
        )
    if isinstance(partitions, str) or not isinstance(partitions, Sequence) or not partitions:
        raise TypeError(f"partitions must be a non-empty sequence of row modes, got {partitions!r}")
    if submatrix_options and method == "dense":
        raise TypeError(f"options {sorted(submatrix_options)} need method='submatrix' or 'auto'")
    method = _resolve_method(method, source, memory_limit, partitions[0])
    if method == "dense":
        submatrix_options = {}  # "auto" went dense: the submatrix options do not apply
        if source.kind == "network":
            source = resolve_input(network_tensor(source, memory_limit=memory_limit))
    shape = source.shape
    if len(shape) < 2:
        raise ValueError(f"the tensor must have order >= 2, got shape {shape}")
    best, ranks = None, {}
    for part in partitions:
        found = matricization_rank(
            source,
            part,
            atol=atol,
            method=method,
            memory_limit=memory_limit,
            random_state=random_state,
            **submatrix_options,
        )
        rows = found.row_modes
        cols = tuple(k for k in range(len(shape)) if k not in rows)
        term = term_rank([shape[k] for k in rows], [shape[k] for k in cols])
        bound = -(-found.rank // term)
        ranks[rows] = found.rank
        if best is None or bound > best[0]:
            best = (bound, found, term)
    bound, found, term = best
    return ShallowWidthBound(
        bound=int(bound),
        rank=found.rank,
        row_modes=found.row_modes,
        atol=found.atol,
        gap=found.gap,
        xi=xi_name,
        term_rank=int(term),
        ranks=ranks,
        method=method,
        certificate=found.certificate,
    )


#: Largest exact width :func:`width_conversion_bounds` computes (2^20 bits: about 315,000
#: digits, a few milliseconds).
_MAX_WIDTH_BYTES = 2**17


def _ceil_power(r: int, d: int) -> int:
    """``ceil(r ** (log2(d) / 2))``, exactly also beyond float precision (Decimal arithmetic
    with more digits than the result has)."""
    if d & (d - 1) == 0 and (d.bit_length() - 1) % 2 == 0:  # d = 4^k: an integer power
        return r ** ((d.bit_length() - 1) // 2)
    log10 = math.log2(d) / 2 * math.log10(r)  # math: exact for ints beyond float range
    if log10 < 12:  # float is exact enough: 1e-9 below an integer is round-off
        return int(np.ceil(r ** (np.log2(d) / 2) - 1e-9))
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = int(log10) + 30
        exponent = decimal.Decimal(d).ln() / decimal.Decimal(2).ln() / 2
        value = decimal.Decimal(r) ** exponent
        return int(value.to_integral_value(rounding=decimal.ROUND_CEILING))


@dataclass(frozen=True)
class WidthConversion:
    """One cell of the width-conversion table (docs/theory.md section 5.2, [K18] Table 2).

    Returned inside :func:`width_conversion_bounds`; the fields are its constructor parameters.

    Parameters
    ----------
    value : int
        The width of the table (rounded up when the formula is not an integer).
    exact : bool
        True: ``value`` suffices and is attained (sharp); False: a lower bound (``>=``) only.
    formula : str
        The formula, e.g. ``"r^(d/2)"``.
    upper : int or None
        A width that always suffices, when one is known (``value`` when exact).

    Examples
    --------
    >>> import tensorexpr as te
    >>> cell = te.width_conversion_bounds(3, 4)["cp"]["tt"]
    >>> cell.value, cell.exact
    (9, False)
    """

    value: int
    exact: bool
    formula: str
    upper: int | None = None


def width_conversion_bounds(
    r: int, d: int, m: int | None = None
) -> dict[str, dict[str, WidthConversion]]:
    """The width a network of one kind needs to equal a generic one of width r of another.

    Parameters
    ----------
    r : int
        Width (rank) of the given network.
    d : int
        Number of positions (the HT formulas assume a balanced tree, d a power of 2).
    m : int, optional
        Number of features. With ``m < r`` a matricization over the odd/even partition has
        rank at most ``m^(d/2)``, so the CP lower bounds become ``min(m, r)^(d/2)`` (the
        theorem with the rank of each pair of modes capped by m).

    Returns
    -------
    dict
        ``table[needed][given]`` is a :class:`WidthConversion`, kinds ``"tt"``, ``"ht"``,
        ``"cp"``. Rows of docs/theory.md 5.2: TT needs r / r^(log2(d)/2) / r, HT needs r^2 / r / r,
        CP needs >= r^(d/2) / >= r^(d/2) / r (given TT / HT / CP).

    Notes
    -----
    The HT -> TT cell r^(log2(d)/2) is the worst case of Buczynska et al. (some HT networks
    need it), not a width that always suffices: a TT cut ``{1..k}`` of a balanced tree is a
    union of at most ``log2(d) - 1`` subtrees, so ``r^(log2(d) - 1)`` suffices, and generic
    HT networks of rank r with d = 8 need TT rank r^2 > r^1.5 (measured by ``tensorexpr
    reproduce table2``). That cell is therefore reported as a lower bound with
    ``upper = r^(log2(d) - 1)`` (**our correction**); for d <= 4 both agree and it is exact.

    Examples
    --------
    >>> import tensorexpr as te
    >>> table = te.width_conversion_bounds(3, 4)
    >>> table["cp"]["tt"]
    WidthConversion(value=9, exact=False, formula='r^(d/2)', upper=None)
    >>> table["ht"]["tt"].value, table["tt"]["ht"].value
    (9, 3)
    """
    r = check_positive_int(r, "r")
    d = check_positive_int(d, "d", minimum=2)
    s, s_name = r, "r"
    if m is not None and check_positive_int(m, "m") < r:
        s, s_name = m, "min(m,r)"
    half = -(-d // 2)
    levels = int(np.ceil(np.log2(d) - 1e-12))
    # the table holds exact integers: refuse those too large to compute in a moment
    bits = max(half * s.bit_length(), max(1, levels - 1) * r.bit_length())
    check_size(
        bits // 8,
        f"r={r}, d={d}",
        "the exact widths r^(d/2) of the table",
        limit=_MAX_WIDTH_BYTES,
        limit_name="for one exact width",
    )
    deep = _ceil_power(r, d)
    deep_upper = r ** max(1, levels - 1)

    def cell(value, formula, upper=None, exact=None):
        exact = (upper == value) if exact is None else exact
        return WidthConversion(int(value), bool(exact), formula, upper)

    return {
        "tt": {
            "tt": cell(r, "r", r),
            "ht": cell(deep, "r^(log2(d)/2)", deep_upper),
            "cp": cell(r, "r", r),
        },
        "ht": {"tt": cell(r**2, "r^2", r**2), "ht": cell(r, "r", r), "cp": cell(r, "r", r)},
        "cp": {
            "tt": cell(s**half, f"{s_name}^(d/2)"),
            "ht": cell(s**half, f"{s_name}^(d/2)"),
            "cp": cell(r, "r", r),
        },
    }
