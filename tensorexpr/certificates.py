"""Certified matricization ranks from a submatrix, beyond the sizes a dense matricization fits.

A lower bound on ``rank(A)`` needs only a submatrix: ``rank(A[I, J]) <= rank(A)``, and the
entries of ``A[I, J]`` are values of the score function on the template tuples that the row
set I and the column set J name. An index pair (I, J) whose submatrix has r singular values
above a rigorous floating-point margin (an upper bound on the error of the computed entries
plus that of the SVD) certifies ``rank(A) >= r`` without forming A (docs/theory.md, section
4.4). The pair, the margin and the smallest counted singular value form a
:class:`WidthCertificate`, which :func:`verify_width_certificate` re-checks from the score
function alone, and which saves to and loads from JSON or ``.npz``.
"""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorly as tl

from ._backend import DEFAULT_MEMORY_LIMIT, check_memory, to_numpy
from .grid import check_templates, feature_matrix
from .validation import check_positive_int, check_random_state

__all__ = [
    "WidthCertificate",
    "CertificateCheck",
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
        All computed singular values of B, descending.

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

    @property
    def shape(self) -> tuple[int, int]:
        """Shape (k1, k2) of the certified submatrix."""
        return (len(self.row_tuples), len(self.col_tuples))

    def to_dict(self) -> dict:
        """JSON-able dict (arrays as lists)."""
        return {
            "format": "tensorexpr.WidthCertificate/1",
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
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, dict) or data.get("format") != "tensorexpr.WidthCertificate/1":
            raise ValueError("data is not a tensorexpr.WidthCertificate/1 dict")
        d, S = int(data["d"]), len(data["row_modes"])
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
        )

    def save(self, path) -> Path:
        """Write to ``path``: JSON for ``.json``, numpy's ``.npz`` otherwise. Returns the path."""
        path = Path(path)
        data = self.to_dict()
        if path.suffix == ".json":
            path.write_text(json.dumps(data))
            return path
        arrays = {k: np.asarray(data.pop(k)) for k in ("row_tuples", "col_tuples")}
        arrays["singular_values"] = np.asarray(data.pop("singular_values"))
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        np.savez_compressed(path, meta=np.array(json.dumps(data)), **arrays)
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
    >>> from tensorexpr.certificates import submatrix_indices
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
    """Values and entry-error weights of a grid tensor at index tuples, in float64 numpy.

    ``weights`` are the values ``s`` of the absolute network of docs/theory.md 4.4
    (``|entry error| <= gamma_K s``); None for given data (exact) or a black box.
    """

    def __init__(self, source, templates, d, memory_limit, structured_ok=True):
        from .networks import CPNetwork, HTNetwork, TTNetwork

        self.memory_limit = memory_limit
        self.net = self.abs_net = self.own = None
        self.fn = None
        if _is_network(source):
            if source.n_outputs > 1:
                raise ValueError(
                    f"network must have a single output, this one has n_outputs={source.n_outputs}"
                )
            net = source
            if templates is None:
                if not net.xi.is_product:
                    raise ValueError(
                        f"templates are required for a xi={net.xi.name!r} network: the bound "
                        "is on its grid tensor"
                    )
                F = np.eye(net.n_features)  # the coefficient tensor W is the grid on F = I
            else:
                F = to_numpy(feature_matrix(net.feature_map, templates)).astype(np.float64)
            self.F, self.d, self.M = F, net.d, F.shape[0]
            self.xi = net.xi
            copies = {"tt": TTNetwork, "cp": CPNetwork, "ht": HTNetwork}
            self.net = _on_features(net, copies, absolute=False)
            if net.xi.name in _BOUNDED_XI:
                self.abs_net = _on_features(net, copies, absolute=True)
                self.gamma = _gamma(net.n_params + net.d * (net.n_features + 3))
            self.product = net.xi.is_product and structured_ok
        elif callable(source):
            if templates is None or d is None:
                raise ValueError("a score function needs templates and d")
            self.fn = source
            self.templates = check_templates(templates)
            self.d = check_positive_int(d, "d")
            self.M = self.templates.shape[0]
            self.xi, self.product = None, False
        else:
            tensor = to_numpy(source).astype(np.float64)
            self.tensor, self.d = tensor, tensor.ndim
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
        k1, k2 = len(rows), len(cols)
        per_block = max(1, _BLOCK_BYTES // (8 * self.d * max(k2, 1)))
        out = np.empty((k1, k2))
        for start in range(0, k1, per_block):
            block = rows[start : start + per_block]
            idx = submatrix_indices(block, cols, S, self.d)
            out[start : start + len(block)] = self.values(idx, absolute)
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

    def subgrid(self, subsets, absolute: bool = False) -> np.ndarray | None:
        """The dense grid on per-mode template subsets, or None when only pointwise works."""
        if self.net is None and self.fn is None:
            return self.tensor[np.ix_(*subsets)]
        if self.net is None:
            return None
        size = int(np.prod([len(u) for u in subsets]))
        check_memory(3 * size * 8, self.memory_limit, f"a sub-grid of {size} entries")
        net = self.abs_net if absolute else self.net
        F = np.abs(self.F) if absolute else self.F
        with tl.backend_context("numpy"):
            if all(np.array_equal(u, subsets[0]) for u in subsets):
                return np.asarray(net.grid_tensor(F[subsets[0]], memory_limit=self.memory_limit))
            if not self.product:
                return None
            return _sliced_structured_grid(net.grid_tensor(F, structured=True), subsets)

    def weights_available(self) -> bool:
        return self.abs_net is not None


def _is_network(obj) -> bool:
    from .networks import CPNetwork, HTNetwork, TTNetwork

    return isinstance(obj, (CPNetwork, TTNetwork, HTNetwork))


def _on_features(net, classes, absolute: bool):
    """The network with the identity feature map (inputs: feature rows), |parameters| if asked."""
    from .features import LinearFeatures

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
    out = np.empty(len(flat))
    with tl.backend_context("numpy"):
        for start in range(0, len(flat), per_block):
            block = flat[start : start + per_block]
            values = to_numpy(fn(templates[block]))
            if values.shape != (len(block),):
                raise ValueError(
                    f"the score function must return shape (batch,), got {values.shape} for a "
                    f"batch of {len(block)}"
                )
            out[start : start + len(block)] = values
    return out


def _sliced_structured_grid(factorized, subsets) -> np.ndarray:
    """Dense grid of a CP / TT / HT grid tensor restricted to per-mode index subsets."""
    from tensorly.cp_tensor import CPTensor, cp_to_tensor
    from tensorly.tt_tensor import TTTensor, tt_to_tensor

    from .ht_tensor import HTTensor

    if isinstance(factorized, TTTensor):
        return tt_to_tensor([c[:, u, :] for c, u in zip(factorized.factors, subsets, strict=True)])
    if isinstance(factorized, CPTensor):
        weights, factors = factorized
        return cp_to_tensor((weights, [f[u] for f, u in zip(factors, subsets, strict=True)]))
    tree = factorized.tree
    leaves = {tree.leaf(k): u for k, u in enumerate(subsets)}
    factors = [f[leaves[node]] if node in leaves else f for node, f in enumerate(factorized)]
    return np.asarray(HTTensor(factors, tree).to_tensor())


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


def _cartesian(subsets, modes):
    grids = np.meshgrid(*[subsets[k] for k in modes], indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


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
        rows, cols = _cartesian(subsets, S), _cartesian(subsets, T)
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
    max_size: int = 2048,
    entry_error: float | None = None,
    random_state=None,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    oversample: int = 2,
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
    max_size : int, default 2048
        Largest number of rows and of columns.
    entry_error : float, optional
        Absolute bound on the error of each value of a score function (default 0: the
        values are taken as exact). Networks and tensors get theirs from docs/theory.md 4.4.
    random_state : None, int or numpy Generator
    memory_limit : int
        Bytes allowed for the sub-grid and its work arrays.
    oversample : int, default 2
        Pool size factor of ``"pivoted"``.

    Returns
    -------
    WidthCertificate

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> from tensorexpr.certificates import certify_matricization_rank
    >>> net = te.TTNetwork.random(8, te.LinearFeatures.identity(2), rank=2, random_state=0)
    >>> cert = certify_matricization_rank(net, max_size=8)
    >>> cert.rank, cert.shape, cert.selection
    (8, (8, 8), 'structured')
    """
    from .expressivity import row_modes_of

    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {SELECTIONS}, got {selection!r}")
    max_size = check_positive_int(max_size, "max_size")
    oversample = check_positive_int(oversample, "oversample")
    if entry_error is not None and (
        not isinstance(entry_error, numbers.Real) or not entry_error >= 0
    ):
        raise ValueError(f"entry_error must be a number >= 0, got {entry_error!r}")
    if _is_network(source) and source.xi.name not in _BOUNDED_XI and entry_error is None:
        raise ValueError(
            f"no entry error bound is known for xi={source.xi.name!r}; supported: "
            f"{list(_BOUNDED_XI)} (or pass entry_error)"
        )
    if _is_network(source) and d is not None and d != source.d:
        raise ValueError(f"d={d} differs from the network's d={source.d}")
    if not _is_network(source) and not callable(source) and templates is not None:
        raise ValueError("templates are only used with a network or a score function")
    rng = check_random_state(random_state)
    entries = _Entries(source, templates, d, memory_limit)
    S = row_modes_of(row_modes, entries.d)
    T = tuple(k for k in range(entries.d) if k not in S)
    chosen = selection
    if selection == "auto":
        # the structured sub-grid is exact when it is whole, and keeps the ranks of product
        # networks with frozen modes; generalized networks lose rank to frozen modes, where the
        # pivoted choice is the best (benchmarks/bench_certificates.py)
        whole = _fits_whole(entries, S, T, max_size)
        chosen = "structured" if whole or entries.product else "pivoted"
    rows, cols, subsets = _select(entries, S, T, chosen, max_size, rng, oversample)
    B = W = None
    if subsets is not None:
        B = _matricized(entries.subgrid(subsets), subsets, S, T)
        if entries.weights_available() and B is not None:
            W = entries.subgrid(subsets, absolute=True)
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


def _matricized(sub, subsets, S, T):
    if sub is None:
        return None
    sub = np.asarray(sub, dtype=np.float64)
    n_rows = int(np.prod([len(subsets[k]) for k in S]))
    return np.transpose(sub, S + T).reshape(n_rows, -1)


def _certificate(B, entry_err, rows, cols, S, entries, selection) -> WidthCertificate:
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
    )


def verify_width_certificate(
    network_or_fn, templates, certificate: WidthCertificate, entry_error: float | None = None
) -> CertificateCheck:
    """Re-check a :class:`WidthCertificate` from the score function alone.

    The submatrix is recomputed by calling the network (or function) on the certificate's
    template tuples, never through a grid tensor; its singular values and the margin of
    docs/theory.md 4.4 are recomputed, and the certified rank must be met again.

    Parameters
    ----------
    network_or_fn : network or callable
        A network (its entry error bound is recomputed from its parameters), or a score
        function ``(batch, d, n) -> (batch,)``.
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

    Examples
    --------
    >>> import tensorexpr as te
    >>> from tensorexpr.certificates import certify_matricization_rank
    >>> net = te.TTNetwork.random(6, te.LinearFeatures.identity(2), rank=2, random_state=0)
    >>> cert = certify_matricization_rank(net)
    >>> check = te.verify_width_certificate(net, None, cert)
    >>> bool(check), check.rank == cert.rank
    (True, True)
    """
    if not isinstance(certificate, WidthCertificate):
        raise TypeError(f"certificate must be a WidthCertificate, got {type(certificate).__name__}")
    if not callable(network_or_fn):
        raise TypeError(
            f"network_or_fn must be a network or a callable, got {type(network_or_fn).__name__}"
        )
    is_net = _is_network(network_or_fn)
    entries = _Entries(
        network_or_fn,
        templates,
        certificate.d if not is_net else None,
        DEFAULT_MEMORY_LIMIT,
        structured_ok=False,
    )
    if entries.d != certificate.d or entries.M != certificate.n_templates:
        raise ValueError(
            f"the certificate is for d={certificate.d}, M={certificate.n_templates} templates; "
            f"got d={entries.d}, M={entries.M}"
        )
    if is_net and templates is not None:
        # the network's own outputs on the tuples, features computed by the network itself
        entries.own = (network_or_fn, check_templates(templates, network_or_fn.n_inputs))
    tuples = (certificate.row_tuples, certificate.col_tuples, certificate.row_modes)
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
    r = certificate.rank
    sigma = float(s[r - 1]) if 0 < r <= len(s) else 0.0
    consistent = r == 0 or abs(sigma - certificate.sigma) <= margin + certificate.margin
    return CertificateCheck(valid=rank >= r and consistent, rank=rank, sigma=sigma, margin=margin)
