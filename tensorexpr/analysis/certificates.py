"""Certified matricization ranks from a submatrix, beyond the sizes a dense matricization fits.

A lower bound on ``rank(A)`` needs only a submatrix: ``rank(A[I, J]) <= rank(A)``, and the
entries of ``A[I, J]`` are values of the score function on the template tuples that the row
set I and the column set J name. An index pair (I, J) whose submatrix has r singular values
above a rigorous floating-point margin (an upper bound on the error of the computed entries
plus that of the SVD) certifies ``rank(A) >= r`` without forming A (docs/theory.md, section
4.4). The pair, the margin and the smallest counted singular value form a
:class:`WidthCertificate`, which :func:`verify_width_certificate` re-checks from the score
function alone, and which saves to and loads from JSON or ``.npz``.

An exact certificate (``exact=True``) needs no margin: a float network, its templates and
Linear / ReLU / Polynomial features are exact dyadic rationals, so the entries of the
submatrix are computed exactly (mod a prime p for product networks, as exact integers for
max / ReLU networks) and its rank over GF(p), a lower bound on its rank over Q, is computed
by elimination on BLAS (docs/theory.md 4.4). :func:`choose_method` estimates the cost of the
dense route and of both certificates for ``method="auto"``. Every certificate of a network
carries a :class:`FeatureDiagnostic`: the rank and condition number of the feature matrix
on the templates, which the theorems' generic ranks need to be full and moderate.

The entries of the submatrix come from ``_entries`` (one reader per resolved input), its rows
and columns from ``_selection``, and the cost model of ``method="auto"`` is ``_routes``.
"""

from __future__ import annotations

import json
import numbers
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._backend import DEFAULT_MEMORY_LIMIT, check_memory
from .._deprecation import DEPRECATED, renamed_argument
from ..grid import check_templates
from ..validation import check_positive_int, check_random_state
from ._entries import BOUNDED_XI, FeatureDiagnostic, GridEntries, higham_gamma, submatrix_indices
from ._inputs import resolve_input, row_modes_of
from ._modular import PRIMES, rank_mod_p
from ._routes import (
    EXACT_COPIES,
    EXACT_SIZE,
    FLOAT_SIZE,
    choose_method,
    exact_size,
    kronecker_applies,
)
from ._selection import fits_whole, select_tuples

__all__ = [
    "WidthCertificate",
    "CertificateCheck",
    "FeatureDiagnostic",
    "CertificateWarning",
    "choose_method",
    "certify_matricization_rank",
    "verify_width_certificate",
    "submatrix_indices",
    "SELECTIONS",
]

#: Ways to choose the rows and columns (see :func:`certify_matricization_rank`).
SELECTIONS = ("auto", "structured", "pivoted", "random")


class CertificateWarning(UserWarning):
    """The templates do not meet a theorem's hypothesis (see :class:`FeatureDiagnostic`).

    Examples
    --------
    >>> import warnings
    >>> import tensorexpr as te
    >>> net = te.TTNetwork.random(4, te.LinearFeatures.identity(2), 2, random_state=0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = te.shallow_width_lower_bound(net, templates=[[1, 0], [2, 0]])
    >>> caught[0].category.__name__, "the theorem's bound needs" in str(caught[0].message)
    ('CertificateWarning', True)
    """


def svd_error_bound(B: np.ndarray) -> float:
    """Bound on ``|sigma_i(computed) - sigma_i(B)|`` of LAPACK's SVD (docs/theory.md 4.4).

    ``gamma_(10 k1 k2) ||B||_F``: Householder bidiagonalization is normwise backward stable
    (Higham 2002, Thm 19.4 and section 19.4) and the bidiagonal singular values are computed
    to high relative accuracy; the constant 10 is a generous choice for the ``c`` in
    ``gamma~_(c k1 k2)``.
    """
    k1, k2 = B.shape
    return higham_gamma(10 * k1 * k2) * float(np.linalg.norm(B))


@dataclass(frozen=True)
class WidthCertificate:
    """A certificate that a matricization of a grid tensor has rank >= ``rank``.

    ``B[a, b] = l(x^(t_1), ..., x^(t_d))`` where the tuple t takes ``row_tuples[a]`` on the
    modes ``row_modes`` and ``col_tuples[b]`` on the others; ``rank`` singular values of the
    computed B exceed ``margin = entry_error + svd_error`` (docs/theory.md 4.4).
    Returned inside :func:`certify_matricization_rank`; the fields are its constructor
    parameters.

    Parameters
    ----------
    d : int
        Order of the grid tensor.
    n_templates : int
        M, the number of templates the tuples index.
    row_modes : tuple of int
        The modes of the rows (S).
    row_tuples : ndarray of shape (k1, len(S))
        Template indices of the rows.
    col_tuples : ndarray of shape (k2, d - len(S))
        Template indices of the columns.
    rank : int
        Certified lower bound on the matricization rank.
    sigma : float
        Smallest counted singular value (0.0 when rank is 0).
    margin : float
        A singular value counts only above it.
    entry_error : float
        Bound on the Frobenius norm of the errors of the computed entries.
    svd_error : float
        Bound on the error of each computed singular value.
    selection : str
        How the rows and columns were chosen.
    singular_values : ndarray
        All computed singular values of B, descending (empty for an exact certificate).
    exact : bool, default False
        True: the entries of B were computed exactly and ``rank`` is its rank over GF(prime)
        (no margin: ``sigma``, ``margin`` and the errors are 0).
    prime : int, default 0
        The prime of an exact certificate.
    diagnostic : FeatureDiagnostic or None
        The feature matrix on the templates (networks with templates only).

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> from tensorexpr.experiments.theorem5_2 import witness_rnn
    >>> found = te.shallow_width_lower_bound(
    ...     witness_rnn(3, 4), templates=np.eye(3), method="submatrix"
    ... )
    >>> cert = found.certificate
    >>> cert.rank, cert.shape, cert.sigma > cert.margin
    (9, (9, 9), True)
    """

    d: int
    n_templates: int
    row_modes: tuple[int, ...]
    row_tuples: np.ndarray
    col_tuples: np.ndarray
    rank: int
    sigma: float
    margin: float
    entry_error: float
    svd_error: float
    selection: str
    singular_values: np.ndarray = field(repr=False)
    exact: bool = False
    prime: int = 0
    diagnostic: FeatureDiagnostic | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """Shape (k1, k2) of the certified submatrix."""
        return (len(self.row_tuples), len(self.col_tuples))

    def to_dict(self) -> dict:
        """JSON-able dict (arrays as lists)."""
        return {
            "format": "tensorexpr.WidthCertificate/2",
            "exact": self.exact,
            "prime": self.prime,
            "diagnostic": None if self.diagnostic is None else self.diagnostic.to_dict(),
            "d": self.d,
            "n_templates": self.n_templates,
            "row_modes": list(self.row_modes),
            "row_tuples": np.asarray(self.row_tuples).tolist(),
            "col_tuples": np.asarray(self.col_tuples).tolist(),
            "rank": self.rank,
            "sigma": self.sigma,
            "margin": self.margin,
            "entry_error": self.entry_error,
            "svd_error": self.svd_error,
            "selection": self.selection,
            "singular_values": np.asarray(self.singular_values).tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> WidthCertificate:
        """Inverse of :meth:`to_dict` (also reads the float-only format /1)."""
        formats = ("tensorexpr.WidthCertificate/1", "tensorexpr.WidthCertificate/2")
        if not isinstance(data, dict) or data.get("format") not in formats:
            raise ValueError("data is not a tensorexpr.WidthCertificate/1 or /2 dict")
        d, S = int(data["d"]), len(data["row_modes"])
        diag = data.get("diagnostic")
        return cls(
            d=d,
            n_templates=int(data["n_templates"]),
            row_modes=tuple(int(k) for k in data["row_modes"]),
            row_tuples=np.asarray(data["row_tuples"], dtype=np.int64).reshape(-1, S),
            col_tuples=np.asarray(data["col_tuples"], dtype=np.int64).reshape(-1, d - S),
            rank=int(data["rank"]),
            sigma=float(data["sigma"]),
            margin=float(data["margin"]),
            entry_error=float(data["entry_error"]),
            svd_error=float(data["svd_error"]),
            selection=str(data["selection"]),
            singular_values=np.asarray(data["singular_values"], dtype=np.float64),
            exact=bool(data.get("exact", False)),
            prime=int(data.get("prime", 0)),
            diagnostic=None if diag is None else FeatureDiagnostic(**diag),
        )

    def save(self, path) -> Path:
        """Write to ``path``: JSON for ``.json``, numpy's ``.npz`` otherwise. Returns the path.

        The file is written next to ``path`` and renamed over it (after an fsync), so a
        failed write leaves an existing file as it was.
        """
        path = Path(path)
        data = self.to_dict()
        if path.suffix != ".json" and path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                if path.suffix == ".json":
                    fh.write(json.dumps(data).encode())
                else:
                    arrays = {k: np.asarray(data.pop(k)) for k in ("row_tuples", "col_tuples")}
                    arrays["singular_values"] = np.asarray(data.pop("singular_values"))
                    np.savez_compressed(fh, meta=np.array(json.dumps(data)), **arrays)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path) -> WidthCertificate:
        """Read a certificate written by :meth:`save`."""
        path = Path(path)
        if path.suffix == ".json":
            return cls.from_dict(json.loads(path.read_text()))
        with np.load(path, allow_pickle=False) as npz:
            data = json.loads(str(npz["meta"]))
            for key in ("row_tuples", "col_tuples", "singular_values"):
                data[key] = npz[key]
        return cls.from_dict(data)


@dataclass(frozen=True)
class CertificateCheck:
    """Result of :func:`verify_width_certificate`; true when the certificate holds.

    Parameters
    ----------
    valid : bool
        At least ``certificate.rank`` recomputed singular values exceed the recomputed
        margin, and the recomputed ``sigma`` agrees with the certificate's within both
        margins.
    rank : int
        Number of recomputed singular values above the recomputed margin.
    sigma : float
        Recomputed singular value number ``certificate.rank``.
    margin : float
        Recomputed margin.

    Examples
    --------
    >>> import tensorexpr as te
    >>> net = te.TTNetwork.random(4, te.LinearFeatures.identity(2), rank=2, random_state=0)
    >>> cert = te.certify_matricization_rank(net)
    >>> check = te.verify_width_certificate(net, None, cert)
    >>> check.valid, check.rank
    (True, 4)
    """

    valid: bool
    rank: int
    sigma: float
    margin: float

    def __bool__(self) -> bool:
        return self.valid


def certify_matricization_rank(
    source,
    templates=None,
    d: int | None = None,
    row_modes="odd",
    selection: str = "auto",
    max_size: int | None = None,
    entry_error: float | None = None,
    random_state=None,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    oversample: int = 2,
    exact: bool = False,
) -> WidthCertificate:
    """A certified lower bound on a matricization rank, from one submatrix.

    Parameters
    ----------
    source : network, callable or tensor
        A single-output CP / TT / HT network (its grid tensor on ``templates``, or its
        coefficient tensor W when a product network has no templates), a score function
        ``(batch, d, n) -> (batch,)`` (with ``templates`` and ``d``), or a grid tensor.
    templates : array of shape (M, n), optional
    d : int, optional
        Order, for a score function.
    row_modes : "odd", "even" or sequence of ints, default "odd"
        The modes of the rows (see :func:`tensorexpr.matricization`).
    selection : {"auto", "structured", "pivoted", "random"}
        How rows and columns are chosen. ``"structured"``: every tuple over per-mode template
        subsets (the pivot templates of the feature matrix for product networks, all templates
        otherwise) on as many modes as ``max_size`` allows, the other modes frozen at one
        template: a sub-grid, evaluated through the structured grid tensor for product
        networks. ``"pivoted"``: greedy QR with column pivoting on a random pool of
        ``oversample * max_size`` rows, then of columns. ``"random"``: random tuples.
        ``"auto"``: structured when every tuple over the pivot templates fits (the whole
        sub-grid: exact) and for product networks (whose ranks survive frozen modes);
        pivoted otherwise (the best at a fixed size for generalized networks in
        ``benchmarks/bench_certificates.py``).
    max_size : int, optional
        Largest number of rows and of columns. Default: 2048 for a float certificate; for an
        exact one, the whole sub-grid on the pivot templates (the size that reaches the
        generic rank) when it is at most 4096, else 2048; at most what ``memory_limit``
        allows.
    entry_error : float, optional
        Absolute bound on the error of each value of a score function (default 0: the
        values are taken as exact). Networks and tensors get theirs from docs/theory.md 4.4.
        Not used by exact certificates.
    random_state : None, int or numpy Generator
    memory_limit : int
        Bytes allowed for the sub-grid and its work arrays.
    oversample : int, default 2
        Pool size factor of ``"pivoted"``.
    exact : bool, default False
        Compute the entries exactly and the rank over GF(p) (no margin): for networks with
        xi in product, relu_max, relu_sum, max and Linear / ReLU / Polynomial features (or
        no templates), and for tensors (their float entries are exact).

    Returns
    -------
    WidthCertificate

    Warns
    -----
    CertificateWarning
        When the feature matrix on the templates has rank < m or a condition number
        above 1e8 (``certificate.diagnostic`` says what the theorem's bound needs).

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> from tensorexpr.analysis.certificates import certify_matricization_rank
    >>> net = te.TTNetwork.random(8, te.LinearFeatures.identity(2), rank=2, random_state=0)
    >>> cert = certify_matricization_rank(net, max_size=8)
    >>> cert.rank, cert.shape, cert.selection
    (8, (8, 8), 'structured')
    >>> templates = [[1, 0], [0, 1], [1, 1], [1, -1]]
    >>> exact = certify_matricization_rank(net, templates, exact=True)
    >>> exact.rank, exact.shape, exact.margin
    (16, (16, 16), 0.0)
    """
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {SELECTIONS}, got {selection!r}")
    if max_size is not None:
        max_size = check_positive_int(max_size, "max_size")
    oversample = check_positive_int(oversample, "oversample")
    if not isinstance(exact, (bool, np.bool_)):
        raise TypeError(f"exact must be a bool, got {exact!r}")
    if entry_error is not None and (
        not isinstance(entry_error, numbers.Real) or not entry_error >= 0
    ):
        raise ValueError(f"entry_error must be a number >= 0, got {entry_error!r}")
    if exact and entry_error is not None:
        raise ValueError("entry_error is not used by an exact certificate (its entries are exact)")
    kinds = ("network", "tensor", "function")
    source = resolve_input(source, templates, d, kinds=kinds, memory_limit=memory_limit)
    net = source.network
    if not exact and net is not None and net.xi.name not in BOUNDED_XI and entry_error is None:
        raise ValueError(
            f"no entry error bound is known for xi={net.xi.name!r}; supported: "
            f"{list(BOUNDED_XI)} (or pass entry_error)"
        )
    if net is not None and d is not None and d != net.d:
        raise ValueError(f"d={d} differs from the network's d={net.d}")
    rng = check_random_state(random_state)
    entries = GridEntries(source, memory_limit)
    if exact:
        entries.check_exact()
    S = row_modes_of(row_modes, entries.d)
    T = tuple(k for k in range(entries.d) if k not in S)
    kron = exact and kronecker_applies(entries, S, T)
    default_size = max_size is None
    if max_size is None:
        max_size = exact_size(entries, S, T, memory_limit, kron) if exact else FLOAT_SIZE
    elif exact and not kron:
        need = EXACT_COPIES * 8 * max_size**2
        check_memory(int(need), memory_limit, f"an exact submatrix of up to {max_size}^2 entries")
    chosen = selection
    if selection == "auto":
        # the structured sub-grid is exact when it is whole, and keeps the ranks of product
        # networks with frozen modes; generalized networks lose rank to frozen modes, where the
        # pivoted choice is the best (benchmarks/bench_certificates.py)
        whole = fits_whole(entries, S, T, max_size)
        chosen = "structured" if whole or entries.product else "pivoted"
    rows, cols, subsets = select_tuples(entries, S, T, chosen, max_size, rng, oversample)
    diag = entries.diagnostic
    if diag is not None and not diag.ok:
        warnings.warn(diag.message, CertificateWarning, stacklevel=2)
    if exact:

        def reselect():  # the Kronecker argument did not decide: a size elimination handles
            if not (kron and default_size and max_size > EXACT_SIZE):
                return rows, cols, subsets
            size = exact_size(entries, S, T, memory_limit, False)
            return select_tuples(entries, S, T, chosen, size, rng, oversample)

        tuples = (rows, cols, subsets, S, T)
        return _exact_certificate(entries, tuples, chosen, kron, reselect, memory_limit)
    return _float_certificate(entries, (rows, cols, subsets, S, T), chosen, entry_error)


def _exact_certificate(entries, tuples, chosen, kron, reselect, memory_limit):
    """The exact certificate: full rank by the Kronecker argument, else the rank over GF(p)
    of the exact residues of the submatrix (``reselect`` gives the tuples to eliminate)."""
    rows, cols, subsets, S, T = tuples
    p = PRIMES[0]
    if kron and entries.kronecker_full_rank(subsets, S, T, p):
        # full rank by the two-term Kronecker argument (no elimination of B itself)
        rank, chosen = min(len(rows), len(cols)), chosen + "+kronecker"
    else:
        rows, cols, subsets = reselect()
        need = EXACT_COPIES * 8 * len(rows) * len(cols)
        check_memory(int(need), memory_limit, f"an exact {len(rows)} x {len(cols)} submatrix")
        rank = rank_mod_p(entries.residues(rows, cols, S, T, subsets, p), p)
    return WidthCertificate(
        **_located(entries, rows, cols, S, chosen),
        rank=rank,
        sigma=0.0,
        margin=0.0,
        entry_error=0.0,
        svd_error=0.0,
        singular_values=np.zeros(0),
        exact=True,
        prime=p,
    )


def _located(entries, rows, cols, S, selection) -> dict:
    """The fields every certificate shares: where its submatrix sits in the grid tensor."""
    return dict(
        d=entries.d,
        n_templates=entries.M,
        row_modes=tuple(S),
        row_tuples=np.asarray(rows, dtype=np.int64),
        col_tuples=np.asarray(cols, dtype=np.int64),
        selection=selection,
        diagnostic=entries.diagnostic,
    )


def _float_certificate(entries, tuples, chosen, entry_error) -> WidthCertificate:
    """The float certificate: the submatrix (a structured sub-grid when it came whole), its
    entry error bound (given, from the absolute network, or 0 for exact data) and its SVD."""
    rows, cols, subsets, S, T = tuples
    B = W = None
    if subsets is not None:
        B = entries.subgrid_matrix(subsets, S, T)
        if entries.weights_available() and B is not None:
            W = entries.subgrid_matrix(subsets, S, T, absolute=True)
    if B is None:
        B = entries.submatrix(rows, cols, S)
    if entries.weights_available() and W is None:
        W = entries.submatrix(rows, cols, S, absolute=True)
    if entry_error is not None:
        err = float(entry_error) * np.sqrt(B.size)
    elif W is not None:
        # ||E||_F <= gamma_K ||S||_F with S the absolute network's values (theory 4.4);
        # the norm does not depend on how the entries are arranged
        err = _entry_bound(entries.gamma, W)
    else:
        err = 0.0  # given data (a tensor), or a black box taken as exact
    del W
    return _certificate(B, err, rows, cols, S, entries, chosen)


def _entry_bound(gamma: float, weights) -> float:
    """``gamma / (1 - gamma) ||S||_F``: the computed absolute values S may themselves be
    low by a factor (1 - gamma) (docs/theory.md 4.4)."""
    norm = float(np.linalg.norm(np.asarray(weights, dtype=np.float64).ravel()))
    return gamma / (1.0 - gamma) * norm


def _certificate(B, entry_err, rows, cols, S, entries, selection) -> WidthCertificate:
    s = np.linalg.svd(B, compute_uv=False) if B.size else np.zeros(0)
    svd_err = svd_error_bound(B) if B.size else 0.0
    margin = entry_err + svd_err
    rank = int(np.sum(s > margin))
    return WidthCertificate(
        **_located(entries, rows, cols, S, selection),
        rank=rank,
        sigma=float(s[rank - 1]) if rank else 0.0,
        margin=float(margin),
        entry_error=float(entry_err),
        svd_error=float(svd_err),
        singular_values=s,
    )


def verify_width_certificate(
    source=None,
    templates=None,
    certificate: WidthCertificate | None = None,
    entry_error: float | None = None,
    network_or_fn=DEPRECATED,
) -> CertificateCheck:
    """Re-check a :class:`WidthCertificate` from the score function alone.

    A float certificate: the submatrix is recomputed by calling the network (or function)
    on the certificate's template tuples, never through a grid tensor; its singular values
    and the margin of docs/theory.md 4.4 are recomputed, and the certified rank must be met
    again. An exact certificate: the entries are recomputed exactly one by one by the
    network's recursion (not through the structured sub-grid the certificate used) and the
    rank is taken over GF(p') for another prime p'; it must reach the certified rank.

    Parameters
    ----------
    source : network or callable
        A network (its entry error bound is recomputed from its parameters), or a score
        function ``(batch, d, n) -> (batch,)`` (float certificates only).
    templates : array of shape (M, n), or None
        The templates the tuples index (None: a product network's coefficient tensor W).
    certificate : WidthCertificate
    entry_error : float, optional
        Absolute bound on the error of each value of a score function; default: the
        certificate's recorded Frobenius bound is reused.
    network_or_fn : deprecated
        The old name of ``source`` (a FutureWarning; removed in 0.3).

    Returns
    -------
    CertificateCheck
        True when the certificate holds.

    Raises
    ------
    ValueError
        For tuples that are not template indices of the certificate's shape (each in
        ``[0, n_templates)``), or a certificate for another d or number of templates.

    Examples
    --------
    >>> import tensorexpr as te
    >>> from tensorexpr.analysis.certificates import certify_matricization_rank
    >>> net = te.TTNetwork.random(6, te.LinearFeatures.identity(2), rank=2, random_state=0)
    >>> cert = certify_matricization_rank(net)
    >>> check = te.verify_width_certificate(net, None, cert)
    >>> bool(check), check.rank == cert.rank
    (True, True)
    >>> exact = certify_matricization_rank(net, exact=True)
    >>> bool(te.verify_width_certificate(net, None, exact))
    True
    """
    given = renamed_argument(
        "verify_width_certificate", "network_or_fn", network_or_fn, "source", source
    )
    if not isinstance(certificate, WidthCertificate):
        raise TypeError(f"certificate must be a WidthCertificate, got {type(certificate).__name__}")
    source = resolve_input(given, templates, certificate.d, kinds=("network", "function"))
    is_net = source.kind == "network"
    entries = GridEntries(source, DEFAULT_MEMORY_LIMIT, structured_ok=False)
    if entries.d != certificate.d or entries.M != certificate.n_templates:
        raise ValueError(
            f"the certificate is for d={certificate.d}, M={certificate.n_templates} templates; "
            f"got d={entries.d}, M={entries.M}"
        )
    _check_tuples(certificate)
    tuples = (certificate.row_tuples, certificate.col_tuples, certificate.row_modes)
    r = certificate.rank
    if certificate.exact:
        if not is_net:
            raise ValueError(
                "an exact certificate is re-checked from a network (its exact parameters), "
                f"got a {type(given).__name__}"
            )
        entries.check_exact()
        p = next(q for q in PRIMES if q != certificate.prime)
        rank = rank_mod_p(entries.pointwise_residues(*tuples, p), p)
        return CertificateCheck(valid=rank >= r, rank=rank, sigma=0.0, margin=0.0)
    if is_net and templates is not None:
        # the network's own outputs on the tuples, features computed by the network itself
        entries.own = (given, check_templates(source.templates, given.n_inputs))
    B = entries.submatrix(*tuples)
    if entry_error is not None:
        err = float(entry_error) * np.sqrt(B.size)
    elif entries.weights_available():
        err = _entry_bound(entries.gamma, entries.submatrix(*tuples, absolute=True))
    else:
        err = certificate.entry_error
    s = np.linalg.svd(B, compute_uv=False)
    margin = err + svd_error_bound(B)
    rank = int(np.sum(s > margin))
    sigma = float(s[r - 1]) if 0 < r <= len(s) else 0.0
    consistent = r == 0 or abs(sigma - certificate.sigma) <= margin + certificate.margin
    return CertificateCheck(valid=rank >= r and consistent, rank=rank, sigma=sigma, margin=margin)


def _check_tuples(cert: WidthCertificate) -> None:
    """The row modes and tuples of a certificate name entries of its grid (no wrap-around of
    negative indices, no index past the templates)."""
    d, M = cert.d, cert.n_templates
    S = list(cert.row_modes)
    if not S or len(set(S)) != len(S) or any(not 0 <= k < d for k in S) or len(S) == d:
        raise ValueError(
            f"certificate.row_modes must be distinct modes in [0, {d}) (a proper subset), got "
            f"{cert.row_modes}"
        )
    for name, tup, width in (
        ("row_tuples", cert.row_tuples, len(S)),
        ("col_tuples", cert.col_tuples, d - len(S)),
    ):
        arr = np.asarray(tup)
        if arr.ndim != 2 or arr.shape[1] != width or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(
                f"certificate.{name} must be an integer array of shape (k, {width}), got "
                f"shape {arr.shape} and dtype {arr.dtype}"
            )
        if arr.size and (arr.min() < 0 or arr.max() >= M):
            raise ValueError(
                f"certificate.{name} must hold template indices in [0, {M}), got values in "
                f"[{arr.min()}, {arr.max()}]"
            )
