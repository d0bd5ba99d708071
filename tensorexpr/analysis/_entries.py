"""The entries of the matricization a certificate reads: values of a network, a tensor or a
score function at template tuples, with the error weights of docs/theory.md 4.4 and exact
residues mod a prime; and the diagnostic of the feature matrix on the templates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorly as tl

from .._backend import check_memory, to_numpy
from ..grid import OnTemplates, check_scores, check_templates, evaluate_in_blocks, feature_matrix
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
    structured_matrix,
)
from ._inputs import AnalysisInput
from ._modular import to_mod

#: Unit roundoff of float64.
_UNIT = 2.0**-53


#: Operators whose networks have the entry error bound of docs/theory.md 4.4 (sums, products,
#: ReLU and max only: each is monotone on non-negative inputs and 1-Lipschitz in the maximum
#: norm, or a product).
BOUNDED_XI = ("product", "relu_max", "relu_sum", "max")


#: Work array budget of one block of network evaluations (bytes).
BLOCK_BYTES = 2**26


#: A feature matrix with a larger condition number is reported as ill-conditioned.
_CONDITION_LIMIT = 1e8


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


def higham_gamma(n: int) -> float:
    """Higham's ``gamma_n = n u / (1 - n u)``."""
    if n * _UNIT >= 0.5:
        raise ValueError(f"gamma_n is only bounded for n u < 1/2, got n = {n}")
    return n * _UNIT / (1.0 - n * _UNIT)


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
class GridEntries:
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
            if net.xi.name in BOUNDED_XI:
                self.abs_net = _on_features(net, copies, absolute=True)
                self.gamma = higham_gamma(net.n_params + net.d * (net.n_features + 3))
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

    # a row of templates per mode that keeps the ranks: see structured_subsets
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
        per_block = max(1, BLOCK_BYTES // (8 * self.d * max(k2, 1)))
        out = np.empty((k1, k2))

        def fill(block: slice) -> None:  # in place: no second copy of the submatrix
            idx = submatrix_indices(rows[block], cols, S, self.d).reshape(-1, self.d)
            out[block] = values(idx).reshape(-1, k2)

        evaluate_in_blocks(fill, k1, lambda block: block, per_block)
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
            return matricized(self.tensor[np.ix_(*subsets)], subsets, S, T)
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
        return matricized(sub, subsets, S, T)

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
    per_block = max(1, BLOCK_BYTES // (8 * 4 * d * max(n, 2)))
    on_templates, name = OnTemplates(fn, templates), "the score function"

    def evaluate(idx):
        return to_numpy(check_scores(on_templates(idx), len(idx), name)).astype(np.float64)

    with tl.backend_context("numpy"):
        blocks = evaluate_in_blocks(evaluate, len(flat), lambda b: flat[b], per_block)
    return np.concatenate(blocks) if blocks else np.empty(0)


def matricized(sub, subsets, S, T):
    if sub is None:
        return None
    sub = np.asarray(sub, dtype=np.float64)
    n_rows = int(np.prod([len(subsets[k]) for k in S]))
    return np.transpose(sub, S + T).reshape(n_rows, -1)
