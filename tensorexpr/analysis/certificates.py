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
"""

from __future__ import annotations

import json
import math
import numbers
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorly as tl

from .._backend import DEFAULT_MEMORY_LIMIT, check_memory, to_numpy
from ..grid import OnTemplates, check_scores, check_templates, evaluate_in_blocks, feature_matrix
from ..validation import check_positive_int, check_random_state
from ._exact import (
    EXACT_XI,
    ExactNetwork,
    FloatArithmetic,
    ModArithmetic,
    dyadic_mod,
    exact_feature_matrix,
    fractions_mod,
    kronecker_full_rank,
    matricize_vector,
    mode_tuples,
    structured_matrix,
)
from ._inputs import AnalysisInput, resolve_input, row_modes_of
from ._modular import PRIMES, rank_mod_p, to_mod

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
#: Unit roundoff of float64.
_UNIT = 2.0**-53
#: Operators whose networks have the entry error bound of docs/theory.md 4.4 (sums, products,
#: ReLU and max only: each is monotone on non-negative inputs and 1-Lipschitz in the maximum
#: norm, or a product).
_BOUNDED_XI = ("product", "relu_max", "relu_sum", "max")
#: Work array budget of one block of network evaluations (bytes).
_BLOCK_BYTES = 2**26
#: Default largest side of a submatrix: float certificates (an SVD), exact ones (elimination
#: mod p, ~17 s at 4096 on 2 cores: benchmarks/bench_certificates.py).
_FLOAT_SIZE, _EXACT_SIZE = 2048, 4096
#: Largest side certified by the Kronecker argument by default (it forms 2 n x n blocks, n the
#: square root of the side, and no submatrix).
_KRONECKER_SIZE = 2**14
#: Float64 copies of an exact submatrix alive at once (the residues, the elimination's copy,
#: an update chunk).
_EXACT_COPIES = 2.5
#: A feature matrix with a larger condition number is reported as ill-conditioned.
_CONDITION_LIMIT = 1e8
#: Floating-point operations per second assumed by the cost model of :func:`choose_method`
#: (only ratios between routes matter).
_FLOPS = 1e9


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


@dataclass(frozen=True)
class FeatureDiagnostic:
    """Rank and condition number of the feature matrix F (M x m) on the templates.

    The generic ranks of the theorems (``min(m, r)^(d/2)`` for [K18] Theorem 1) need F of
    full column rank m: the grid tensor is the coefficient tensor with F multiplied into
    every mode (docs/theory.md 2), so its ranks are those of a network with ``rank``
    features. A large condition number makes float certificates lose rank to their margin.

    Parameters
    ----------
    n_templates : int
        M.
    n_features : int
        m.
    rank : int
        Numerical rank of F (float64 SVD, tolerance ``sigma_max max(M, m) eps``).
    condition : float
        ``sigma_1 / sigma_m`` (inf when F has rank < m).
    message : str
        Empty when F has full column rank and ``condition <= 1e8``; else what the theorem's
        bound needs.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr.analysis.certificates import FeatureDiagnostic
    >>> diag = FeatureDiagnostic.of(np.array([[1.0, 0.0], [2.0, 0.0]]))
    >>> diag.rank, diag.ok
    (1, False)
    """

    n_templates: int
    n_features: int
    rank: int
    condition: float
    message: str = ""

    @property
    def ok(self) -> bool:
        """Whether F meets the hypothesis (full column rank, condition <= 1e8)."""
        return not self.message

    @classmethod
    def of(cls, F) -> FeatureDiagnostic:
        """The diagnostic of a feature matrix F (M x m)."""
        F = np.asarray(F, dtype=np.float64)
        M, m = F.shape
        s = np.linalg.svd(F, compute_uv=False)
        tol = s[0] * max(M, m) * np.finfo(np.float64).eps if s.size else 0.0
        rank = int(np.sum(s > tol))
        cond = float(s[0] / s[m - 1]) if rank == m else float("inf")
        message = ""
        if rank < m:
            message = (
                f"the feature matrix F of the {M} templates has rank {rank} < m = {m}: the "
                f"theorem's bound needs F of full column rank m (its ranks are those of a "
                f"network with {rank} features); choose templates whose feature rows span R^{m}"
            )
        elif cond > _CONDITION_LIMIT:
            message = (
                f"the feature matrix F of the {M} templates has condition number {cond:.3g}: "
                f"the theorem's bound needs F well conditioned (float certificates lose rank "
                f"to their margin; method='exact' does not)"
            )
        return cls(M, m, rank, cond, message)

    def to_dict(self) -> dict:
        return {
            "n_templates": self.n_templates,
            "n_features": self.n_features,
            "rank": self.rank,
            "condition": self.condition,
            "message": self.message,
        }


def _gamma(n: int) -> float:
    """Higham's ``gamma_n = n u / (1 - n u)``."""
    if n * _UNIT >= 0.5:
        raise ValueError(f"gamma_n is only bounded for n u < 1/2, got n = {n}")
    return n * _UNIT / (1.0 - n * _UNIT)


def svd_error_bound(B: np.ndarray) -> float:
    """Bound on ``|sigma_i(computed) - sigma_i(B)|`` of LAPACK's SVD (docs/theory.md 4.4).

    ``gamma_(10 k1 k2) ||B||_F``: Householder bidiagonalization is normwise backward stable
    (Higham 2002, Thm 19.4 and section 19.4) and the bidiagonal singular values are computed
    to high relative accuracy; the constant 10 is a generous choice for the ``c`` in
    ``gamma~_(c k1 k2)``.
    """
    k1, k2 = B.shape
    return _gamma(10 * k1 * k2) * float(np.linalg.norm(B))


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


def submatrix_indices(row_tuples, col_tuples, row_modes, d: int) -> np.ndarray:
    """Grid indices of the submatrix: shape (k1, k2, d), ``[a, b]`` the tuple of entry (a, b).

    Examples
    --------
    >>> from tensorexpr.analysis.certificates import submatrix_indices
    >>> submatrix_indices([[0, 1]], [[2, 3], [4, 5]], (0, 2), 4).tolist()
    [[[0, 2, 1, 3], [0, 4, 1, 5]]]
    """
    rows = np.asarray(row_tuples, dtype=np.int64)
    cols = np.asarray(col_tuples, dtype=np.int64)
    S = list(row_modes)
    T = [k for k in range(d) if k not in S]
    out = np.empty((rows.shape[0], cols.shape[0], d), dtype=np.int64)
    out[:, :, S] = rows[:, None, :]
    out[:, :, T] = cols[None, :, :]
    return out


# -- where the entries come from ----------------------------------------------------------
class _Entries:
    """Values and entry-error weights of a grid tensor at index tuples, in float64 numpy,
    and exact residues of them mod a prime.

    ``weights`` are the values ``s`` of the absolute network of docs/theory.md 4.4
    (``|entry error| <= gamma_K s``); None for given data (exact) or a black box.
    """

    def __init__(self, source: AnalysisInput, memory_limit, structured_ok=True):
        from ..networks import CPNetwork, HTNetwork, TTNetwork

        self.memory_limit = memory_limit
        self.net = self.abs_net = self.own = None
        self.fn = None
        self.source = source
        self.diagnostic = None
        self._exact_F = None
        self.d = source.d
        if source.kind == "network":
            net = source.value
            if source.templates is None:
                F = np.eye(net.n_features)  # the coefficient tensor W is the grid on F = I
            else:
                F = to_numpy(feature_matrix(net.feature_map, source.templates)).astype(np.float64)
                self.diagnostic = FeatureDiagnostic.of(F)
            self.F, self.M = F, F.shape[0]
            self.xi = net.xi
            copies = {"tt": TTNetwork, "cp": CPNetwork, "ht": HTNetwork}
            self.net = _on_features(net, copies, absolute=False)
            if net.xi.name in _BOUNDED_XI:
                self.abs_net = _on_features(net, copies, absolute=True)
                self.gamma = _gamma(net.n_params + net.d * (net.n_features + 3))
            self.product = net.xi.is_product and structured_ok
        elif source.kind == "function":
            self.fn, self.templates = source.value, source.templates
            self.M = self.templates.shape[0]
            self.xi, self.product = None, False
        else:
            tensor = to_numpy(source.value).astype(np.float64)
            self.tensor = tensor
            if len(set(tensor.shape)) != 1:
                raise ValueError(
                    f"the submatrix method needs equal mode sizes (a grid tensor), got "
                    f"{tensor.shape}"
                )
            self.M = tensor.shape[0]
            self.xi, self.product = None, False

    # a row of templates per mode that keeps the ranks: see _structured_subsets
    def pivot_templates(self) -> np.ndarray:
        if self.net is not None and self.xi.is_product:
            # F = F[P] (its pivot rows) times a matrix: the grid on templates P has the
            # matricization ranks of the grid on all of them (docs/theory.md 2)
            import scipy.linalg

            _, R, perm = scipy.linalg.qr(self.F.T, mode="economic", pivoting=True)
            diag = np.abs(np.diag(R))
            keep = int(np.sum(diag > diag[0] * max(self.F.shape) * np.finfo(float).eps))
            return np.sort(perm[: max(keep, 1)])
        return np.arange(self.M)

    def submatrix(self, rows, cols, S, absolute: bool = False) -> np.ndarray:
        """``B[a, b]`` at the tuples (rows[a] on S, cols[b] elsewhere), in blocks of rows so
        that the index tuples never exist all at once."""
        return self._blocks(rows, cols, S, lambda flat: self.values(flat, absolute))

    def _blocks(self, rows, cols, S, values) -> np.ndarray:
        k1, k2 = len(rows), len(cols)
        per_block = max(1, _BLOCK_BYTES // (8 * self.d * max(k2, 1)))
        out = np.empty((k1, k2))
        for start in range(0, k1, per_block):
            block = rows[start : start + per_block]
            idx = submatrix_indices(block, cols, S, self.d)
            out[start : start + len(block)] = values(idx.reshape(-1, self.d)).reshape(
                len(block), k2
            )
        return out

    def values(self, idx: np.ndarray, absolute: bool = False) -> np.ndarray:
        """Entries at index tuples ``idx`` of shape (..., d), computed pointwise."""
        shape = idx.shape[:-1]
        flat = idx.reshape(-1, self.d)
        if self.net is None and self.fn is None:
            out = self.tensor[tuple(flat.T)]
            return out.reshape(shape)
        if self.fn is not None:
            return _evaluate(self.fn, self.templates, flat).reshape(shape)
        if self.own is not None and not absolute:
            return _evaluate(*self.own, flat).reshape(shape)
        net = self.abs_net if absolute else self.net
        F = np.abs(self.F) if absolute else self.F
        return _evaluate(net, F, flat).reshape(shape)

    def subgrid_matrix(self, subsets, S, T, absolute: bool = False) -> np.ndarray | None:
        """The matricized grid on per-mode template subsets, or None when only pointwise
        evaluation works. Product networks: through their structure, at any d."""
        if self.net is None and self.fn is None:
            return _matricized(self.tensor[np.ix_(*subsets)], subsets, S, T)
        if self.net is None:
            return None
        size = int(np.prod([len(u) for u in subsets], dtype=object))
        check_memory(3 * size * 8, self.memory_limit, f"a sub-grid of {size} entries")
        net = self.abs_net if absolute else self.net
        F = np.abs(self.F) if absolute else self.F
        if self.product:
            return structured_matrix(net, F, subsets, S, T, FloatArithmetic)
        if not all(np.array_equal(u, subsets[0]) for u in subsets):
            return None
        with tl.backend_context("numpy"):
            sub = np.asarray(net.grid_tensor(F[subsets[0]], memory_limit=self.memory_limit))
        return _matricized(sub, subsets, S, T)

    def weights_available(self) -> bool:
        return self.abs_net is not None

    # -- exact entries ---------------------------------------------------------------------
    def check_exact(self) -> None:
        """Raise ValueError unless the entries can be computed exactly."""
        if self.fn is not None:
            raise ValueError(
                "method='exact' needs a network or a tensor: a black-box score function's "
                "values are not known exactly"
            )
        if self.net is None:
            return
        if self.xi.name not in EXACT_XI:
            raise ValueError(
                f"method='exact' supports xi in {list(EXACT_XI)}, got xi={self.xi.name!r}"
            )
        self.exact_F()

    def exact_F(self) -> np.ndarray:
        """The feature matrix as exact Fractions (the identity without templates)."""
        from fractions import Fraction

        if self._exact_F is None:
            net, pts = self.source.value, self.source.templates
            if pts is None:
                m = net.n_features
                eye = [[Fraction(int(i == j)) for j in range(m)] for i in range(m)]
                self._exact_F = np.array(eye, dtype=object)
            else:
                pts = check_templates(pts, net.n_inputs)
                self._exact_F = exact_feature_matrix(net.feature_map, pts)
        return self._exact_F

    def exact_network(self, p: int) -> ExactNetwork:
        arithmetic = "mod" if self.xi.is_product else "dyadic"
        return ExactNetwork(self.net, self.exact_F(), arithmetic, p)

    def residues(self, rows, cols, S, T, subsets, p: int) -> np.ndarray:
        """The submatrix's exact entries mod p (max / ReLU networks: of their integers at
        one common power-of-two scale, which does not change ranks)."""
        if self.net is None:  # given data: each float is its own exact value
            sub = self.subgrid_matrix(subsets, S, T) if subsets is not None else None
            return to_mod(sub if sub is not None else self.submatrix(rows, cols, S), p)
        if subsets is not None and self.xi.is_product:
            F = fractions_mod(self.exact_F(), p)
            return structured_matrix(self.net, F, subsets, S, T, ModArithmetic(p))
        whole = subsets is not None and all(np.array_equal(u, subsets[0]) for u in subsets)
        if whole and self.net.kind == "tt":
            exact = self.exact_network(p)
            values = dyadic_mod(exact.tt_grid(subsets[0]), p)
            return matricize_vector(values, list(range(self.d)), subsets, S, T)
        return self.pointwise_residues(rows, cols, S, p)

    def kronecker_full_rank(self, subsets, S, T, p: int) -> bool:
        """Whether the exact sub-grid matrix of a product TT network is certified of full
        rank by ``_exact.kronecker_full_rank`` (False: not decided)."""
        if subsets is None or self.net is None or not self.xi.is_product:
            return False
        F = fractions_mod(self.exact_F(), p)
        return kronecker_full_rank(self.net, F, subsets, S, T, p)

    def pointwise_residues(self, rows, cols, S, p: int) -> np.ndarray:
        """Exact residues mod p at the tuples, each entry by the network's recursion."""
        exact = self.exact_network(p)
        return self._blocks(rows, cols, S, lambda flat: exact.residues(flat, p))


def _on_features(net, classes, absolute: bool):
    """The network with the identity feature map (inputs: feature rows), |parameters| if asked."""
    from ..features import LinearFeatures

    a = np.abs if absolute else np.asarray
    f = LinearFeatures.identity(net.n_features)
    if net.kind == "tt":
        mats = None if net.matrices is None else [a(c) for c in net.matrices]
        return classes["tt"]([a(c) for c in net.cores], f, xi=net.xi, matrices=mats)
    if net.kind == "cp":
        return classes["cp"]([a(c) for c in net.factors], f, weights=a(net.weights), xi=net.xi)
    return classes["ht"]([a(c) for c in net.factors], f, tree=net.tree, xi=net.xi)


def _evaluate(fn, templates: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """``fn(templates[flat])`` in blocks, as float64 numpy of shape (len(flat),)."""
    n, d = templates.shape[1], flat.shape[1]
    per_block = max(1, _BLOCK_BYTES // (8 * 4 * d * max(n, 2)))
    on_templates, name = OnTemplates(fn, templates), "the score function"

    def evaluate(idx):
        return to_numpy(check_scores(on_templates(idx), len(idx), name)).astype(np.float64)

    with tl.backend_context("numpy"):
        blocks = evaluate_in_blocks(evaluate, len(flat), lambda b: flat[b], per_block)
    return np.concatenate(blocks) if blocks else np.empty(0)


# -- choosing rows and columns --------------------------------------------------------------
def _structured_subsets(entries, S, T, max_size):
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


def _fits_whole(entries, S, T, max_size) -> bool:
    """Whether every tuple over the pivot templates fits in max_size rows and columns."""
    q = len(entries.pivot_templates())
    return max(len(S), len(T)) * np.log(max(q, 1)) <= np.log(max_size) + 1e-9


def _random_tuples(rng, M, n_modes, k):
    total = M**n_modes if n_modes * np.log(M) < 40 else None
    if total is not None and total <= 10**7:
        flat = rng.choice(total, size=min(k, total), replace=False)
        return np.stack(np.unravel_index(np.sort(flat), (M,) * n_modes), axis=1)
    tuples = np.unique(rng.integers(0, M, size=(k, n_modes)), axis=0)
    return tuples


def _pivots(A: np.ndarray, k: int) -> np.ndarray:
    """Columns of A chosen by QR with column pivoting (greedy volume), at most k."""
    import scipy.linalg

    _, _, perm = scipy.linalg.qr(A, mode="economic", pivoting=True)
    return perm[: min(k, A.shape[1], A.shape[0])]


def _select(entries, S, T, selection, max_size, rng, oversample):
    """Row tuples, column tuples, and the submatrix when it came for free (else None)."""
    _d, M = entries.d, entries.M
    if selection == "structured":
        subsets = _structured_subsets(entries, S, T, max_size)
        rows, cols = mode_tuples(subsets, S), mode_tuples(subsets, T)
        return rows, cols, subsets
    if selection == "random":
        k = max_size
        return _random_tuples(rng, M, len(S), k), _random_tuples(rng, M, len(T), k), None
    # pivoted: candidates from the structured templates, greedy pivoted QR on a pool,
    # rows first (on random columns), then columns (on the chosen rows)
    U = entries.pivot_templates()
    q = len(U)
    k = max_size
    cols = U[_random_tuples(rng, q, len(T), k)]
    pool = U[_random_tuples(rng, q, len(S), oversample * k)]
    A = entries.submatrix(pool, cols, S)
    rows = pool[np.sort(_pivots(A.T, k))]
    pool = np.unique(
        np.concatenate([cols, U[_random_tuples(rng, q, len(T), oversample * k)]]), axis=0
    )
    A = entries.submatrix(rows, pool, S)
    cols = pool[np.sort(_pivots(A, k))]
    return rows, cols, None


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
    source = resolve_input(source, templates, d, allow_function=True, memory_limit=memory_limit)
    net = source.network
    if not exact and net is not None and net.xi.name not in _BOUNDED_XI and entry_error is None:
        raise ValueError(
            f"no entry error bound is known for xi={net.xi.name!r}; supported: "
            f"{list(_BOUNDED_XI)} (or pass entry_error)"
        )
    if net is not None and d is not None and d != net.d:
        raise ValueError(f"d={d} differs from the network's d={net.d}")
    rng = check_random_state(random_state)
    entries = _Entries(source, memory_limit)
    if exact:
        entries.check_exact()
    S = row_modes_of(row_modes, entries.d)
    T = tuple(k for k in range(entries.d) if k not in S)
    kron = exact and _kronecker_applies(entries, S, T)
    default_size = max_size is None
    if max_size is None:
        max_size = _exact_size(entries, S, T, memory_limit, kron) if exact else _FLOAT_SIZE
    elif exact and not kron:
        need = _EXACT_COPIES * 8 * max_size**2
        check_memory(int(need), memory_limit, f"an exact submatrix of up to {max_size}^2 entries")
    chosen = selection
    if selection == "auto":
        # the structured sub-grid is exact when it is whole, and keeps the ranks of product
        # networks with frozen modes; generalized networks lose rank to frozen modes, where the
        # pivoted choice is the best (benchmarks/bench_certificates.py)
        whole = _fits_whole(entries, S, T, max_size)
        chosen = "structured" if whole or entries.product else "pivoted"
    rows, cols, subsets = _select(entries, S, T, chosen, max_size, rng, oversample)
    diag = entries.diagnostic
    if diag is not None and not diag.ok:
        warnings.warn(diag.message, CertificateWarning, stacklevel=2)
    if exact:
        p = PRIMES[0]
        if kron and entries.kronecker_full_rank(subsets, S, T, p):
            # full rank by the two-term Kronecker argument (no elimination of B itself)
            rank, chosen = min(len(rows), len(cols)), chosen + "+kronecker"
        else:
            if kron and default_size and max_size > _EXACT_SIZE:
                # not decided: back to a size that elimination handles
                size = _exact_size(entries, S, T, memory_limit, False)
                rows, cols, subsets = _select(entries, S, T, chosen, size, rng, oversample)
            need = _EXACT_COPIES * 8 * len(rows) * len(cols)
            check_memory(int(need), memory_limit, f"an exact {len(rows)} x {len(cols)} submatrix")
            rank = rank_mod_p(entries.residues(rows, cols, S, T, subsets, p), p)
        return WidthCertificate(
            d=entries.d,
            n_templates=entries.M,
            row_modes=tuple(S),
            row_tuples=np.asarray(rows, dtype=np.int64),
            col_tuples=np.asarray(cols, dtype=np.int64),
            rank=rank,
            sigma=0.0,
            margin=0.0,
            entry_error=0.0,
            svd_error=0.0,
            selection=chosen,
            singular_values=np.zeros(0),
            exact=True,
            prime=p,
            diagnostic=diag,
        )
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
    return _certificate(B, err, rows, cols, S, entries, chosen, diag)


def _exact_size(entries, S, T, memory_limit, kronecker: bool = False) -> int:
    """Default side of an exact submatrix: the whole sub-grid on the pivot templates (it
    has the generic rank) when that is at most 4096 (2^14 for the Kronecker argument, which
    forms no submatrix); 2048 when no such size reaches it (a partial bound either way, in
    seconds); for elimination at most what memory_limit allows."""
    q = len(entries.pivot_templates())
    whole = _power(q, min(len(S), len(T))) if q > 1 else 1
    if kronecker and whole <= _KRONECKER_SIZE:
        return int(whole)
    fits = int(np.sqrt(max(memory_limit, 1) / (8 * _EXACT_COPIES)))
    size = int(whole) if whole <= _EXACT_SIZE else _FLOAT_SIZE
    return max(1, min(size, fits))


def _kronecker_applies(entries, S, T) -> bool:
    """Whether ``_exact.kronecker_full_rank`` may decide: a product TT network
    with a bond of 2 between its halves, each half with as many row as column modes."""
    net = entries.net
    if net is None or not entries.xi.is_product or net.kind != "tt" or net.d % 2:
        return False
    h = net.d // 2
    halves = [sum(1 for k in side if k < h) for side in (S, T)]
    return (
        net.matrices is None
        and net.cores[h - 1].shape[2] == 2
        and halves[0] == halves[1] > 0
        and len(S) - halves[0] == len(T) - halves[1] > 0
    )


def _power(base: int, exponent: int) -> float:
    """``base^exponent`` as a float, inf where it would overflow (d = 512 and beyond)."""
    if base <= 1:
        return float(max(base, 0) ** exponent)
    return math.inf if exponent * math.log(base) > 700 else float(base) ** exponent


def choose_method(source, templates=None, row_modes="odd", memory_limit=DEFAULT_MEMORY_LIMIT):
    """``"dense"``, ``"exact"`` or ``"submatrix"``: the route ``method="auto"`` takes.

    Cost model (floating-point operations, docs/expressivity.md): the dense route forms the
    M^d grid and takes the SVD of its ``M^|S| x M^|T|`` matricization (``~ 4 k1 k2 min +
    8 min^3``) when it fits ``memory_limit``; a certificate works on the sub-grid of the
    q pivot templates (q = rank F for product networks, M otherwise), ``q^|S| x q^|T|`` capped
    at its default size: an exact one costs its entries plus an elimination mod p (``~ 2 k1
    k2 min``; ``~ 2 n^4`` with ``n = sqrt(k)`` for a product TT network whose halves meet at a
    bond of 2, where the Kronecker argument of ``_exact.kronecker_full_rank``
    certifies full rank without the submatrix), a float one its entries plus an SVD. Exact
    arithmetic in Python integers (max
    networks whose values outgrow float64 integers) costs ~1000x. The cheapest route wins;
    a certificate before the dense route, exact before float, at equal cost. Tensors (given
    data) keep their numerical rank: dense when it fits, else a float submatrix.

    Parameters
    ----------
    source : network or tensor
    templates : array of shape (M, n), optional
    row_modes : "odd", "even" or sequence of ints
    memory_limit : int

    Returns
    -------
    str
        ``"dense"``, ``"exact"`` or ``"submatrix"``.

    Examples
    --------
    >>> import tensorexpr as te
    >>> from tensorexpr.analysis.certificates import choose_method
    >>> net = te.TTNetwork.random(12, te.LinearFeatures.identity(2), 2, random_state=4)
    >>> choose_method(net, [[1, 0], [0, 1], [1, 1], [1, -1]])
    'exact'
    """
    source = resolve_input(source, templates, memory_limit=memory_limit)
    if source.kind == "tensor":
        # given data: its numerical rank (the dense route) when it fits; its exact rank is
        # that of the rounded numbers, full for any noisy low-rank tensor
        fits = 3 * 8 * int(np.prod(source.shape, dtype=object)) <= memory_limit
        return "dense" if fits else "submatrix"
    net, templates = source.value, source.templates
    M, d = source.mode_size, source.d
    S = row_modes_of(row_modes, d)
    nS, nT = len(S), d - len(S)

    def svd_flops(k1, k2):
        small, big = min(k1, k2), max(k1, k2)
        return 4.0 * small * small * big + 8.0 * small**3

    q = M
    if net.xi.is_product and templates is not None:
        F = to_numpy(feature_matrix(net.feature_map, templates)).astype(np.float64)
        q = FeatureDiagnostic.of(F).rank
    # every route's rank is at most that of the sub-grid on the q pivot templates
    needed = min(_power(q, nS), _power(q, nT))
    costs, reach = {}, {}
    if 3.0 * 8 * _power(M, d) <= memory_limit:
        n1, n2 = _power(M, nS), _power(M, nT)
        costs["dense"] = svd_flops(n1, n2) + 10.0 * _power(M, d)
        reach["dense"] = needed
    fits = np.sqrt(max(memory_limit, 1) / (8 * _EXACT_COPIES))
    exact_cap = _EXACT_SIZE if needed <= _EXACT_SIZE else _FLOAT_SIZE  # as _exact_size
    for name, cap in (("exact", exact_cap), ("submatrix", _FLOAT_SIZE)):
        k1 = min(_power(q, nS), cap, fits)
        k2 = min(_power(q, nT), cap, fits)
        # a pointwise entry touches every parameter once; structured ones cost less
        entries = k1 * k2 * 2.0 * net.n_params
        if name == "submatrix":
            if net.xi.name not in _BOUNDED_XI:
                continue
            costs[name] = entries * 2 + svd_flops(k1, k2)
            reach[name] = min(k1, k2)
            continue
        try:
            probe = _Entries(source, memory_limit)
            probe.check_exact()
            slow = (
                probe.net is not None
                and not probe.xi.is_product
                and not probe.exact_network(PRIMES[0]).float_only()
            )
        except ValueError:
            continue
        cols = tuple(k for k in range(d) if k not in S)
        if _kronecker_applies(probe, S, cols) and needed <= _KRONECKER_SIZE:
            # two n x n blocks (n = sqrt(needed)): inverses, products and characteristic
            # polynomials (Faddeev-LeVerrier, n products), plus the two half contractions
            n = np.sqrt(needed)
            costs[name], reach[name] = 2.0 * n**4 + 10.0 * needed, needed
            continue
        costs[name] = entries * (1000.0 if slow else 1.0) + 2.0 * k1 * k2 * min(k1, k2)
        reach[name] = min(k1, k2)
    if not costs:
        return "submatrix"
    order = {"exact": 0, "submatrix": 1, "dense": 2}
    # the largest reachable rank first (a capped submatrix certifies less), then the cost
    # below ~10 ms every route is as fast as another: the preference order decides
    return min(costs, key=lambda name: (-reach[name], max(costs[name], 1e7), order[name]))


def _entry_bound(gamma: float, weights) -> float:
    """``gamma / (1 - gamma) ||S||_F``: the computed absolute values S may themselves be
    low by a factor (1 - gamma) (docs/theory.md 4.4)."""
    norm = float(np.linalg.norm(np.asarray(weights, dtype=np.float64).ravel()))
    return gamma / (1.0 - gamma) * norm


def _matricized(sub, subsets, S, T):
    if sub is None:
        return None
    sub = np.asarray(sub, dtype=np.float64)
    n_rows = int(np.prod([len(subsets[k]) for k in S]))
    return np.transpose(sub, S + T).reshape(n_rows, -1)


def _certificate(B, entry_err, rows, cols, S, entries, selection, diag) -> WidthCertificate:
    s = np.linalg.svd(B, compute_uv=False) if B.size else np.zeros(0)
    svd_err = svd_error_bound(B) if B.size else 0.0
    margin = entry_err + svd_err
    rank = int(np.sum(s > margin))
    return WidthCertificate(
        d=entries.d,
        n_templates=entries.M,
        row_modes=tuple(S),
        row_tuples=np.asarray(rows, dtype=np.int64),
        col_tuples=np.asarray(cols, dtype=np.int64),
        rank=rank,
        sigma=float(s[rank - 1]) if rank else 0.0,
        margin=float(margin),
        entry_error=float(entry_err),
        svd_error=float(svd_err),
        selection=selection,
        singular_values=s,
        diagnostic=diag,
    )


def verify_width_certificate(
    network_or_fn, templates, certificate: WidthCertificate, entry_error: float | None = None
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
    network_or_fn : network or callable
        A network (its entry error bound is recomputed from its parameters), or a score
        function ``(batch, d, n) -> (batch,)`` (float certificates only).
    templates : array of shape (M, n), or None
        The templates the tuples index (None: a product network's coefficient tensor W).
    certificate : WidthCertificate
    entry_error : float, optional
        Absolute bound on the error of each value of a score function; default: the
        certificate's recorded Frobenius bound is reused.

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
    if not isinstance(certificate, WidthCertificate):
        raise TypeError(f"certificate must be a WidthCertificate, got {type(certificate).__name__}")
    if not callable(network_or_fn):
        raise TypeError(
            f"network_or_fn must be a network or a callable, got {type(network_or_fn).__name__}"
        )
    source = resolve_input(
        network_or_fn, templates, certificate.d, name="network_or_fn", allow_function=True
    )
    is_net = source.kind == "network"
    entries = _Entries(source, DEFAULT_MEMORY_LIMIT, structured_ok=False)
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
                f"got a {type(network_or_fn).__name__}"
            )
        entries.check_exact()
        p = next(q for q in PRIMES if q != certificate.prime)
        rank = rank_mod_p(entries.pointwise_residues(*tuples, p), p)
        return CertificateCheck(valid=rank >= r, rank=rank, sigma=0.0, margin=0.0)
    if is_net and templates is not None:
        # the network's own outputs on the tuples, features computed by the network itself
        entries.own = (network_or_fn, check_templates(source.templates, network_or_fn.n_inputs))
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
