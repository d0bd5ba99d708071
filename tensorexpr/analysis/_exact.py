"""Exact values of networks for rank certificates: exact features, dyadic integers, GF(p)
network recursions and structured sub-grids at any d.

A float64 number is a dyadic rational ``m 2^e``; a network's parameters, its templates and
the values of Linear / ReLU / Polynomial features on them are therefore exact rationals, and
so is every entry of its grid tensor. Entries of a product network are polynomials in those
numbers: mapped to GF(p) (:func:`tensorexpr._modular.to_mod`) every entry is known mod p
exactly. Entries of max / ReLU networks are not polynomials, but are dyadic rationals
computable with exact comparisons: integers with a common power-of-two scale, in float64
while they stay below 2^53 (where float64 arithmetic on integers is exact) and in Python
integers beyond (docs/theory.md 4.4).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ._modular import gauss_jordan_inverse, matmul_mod, rank_mod_p, reduce_mod, small_matmul, to_mod

__all__ = [
    "exact_feature_matrix",
    "fractions_mod",
    "Dyadic",
    "dyadic",
    "dyadic_combine",
    "dyadic_dot",
    "dyadic_mod",
    "EXACT_XI",
    "ExactNetwork",
    "mode_tuples",
    "matricize_vector",
    "FloatArithmetic",
    "ModArithmetic",
    "structured_matrix",
    "kronecker_full_rank",
]

_EXACT = 2.0**53
#: Largest block side of the Kronecker argument (its characteristic polynomials cost n^4).
_KRONECKER_BLOCK = 128
#: Work bytes of one block of a grid recursion.
_CHUNK_BYTES = 2**26


# -- exact feature matrices -----------------------------------------------------------------
def exact_feature_matrix(feature_map, templates: np.ndarray) -> np.ndarray:
    """``F[i, j] = f_j(x^(i))`` as exact Fractions (object array), for the feature maps whose
    values are rational functions of their parameters: LinearFeatures, ReLUFeatures (exact
    comparisons), PolynomialFeatures."""
    from ..features import LinearFeatures, PolynomialFeatures, ReLUFeatures

    X = [[Fraction(float(v)) for v in row] for row in np.asarray(templates, dtype=np.float64)]
    if isinstance(feature_map, (LinearFeatures, ReLUFeatures)):
        A = [[Fraction(float(v)) for v in row] for row in feature_map.A]
        b = [Fraction(float(v)) for v in feature_map.b]
        rows = []
        for x in X:
            z = [
                sum((a * xi for a, xi in zip(row, x, strict=True)), bj)
                for row, bj in zip(A, b, strict=True)
            ]
            if isinstance(feature_map, ReLUFeatures):
                z = [max(v, Fraction(0)) for v in z]
            rows.append(z + [Fraction(1)] * int(feature_map.append_constant))
        return np.array(rows, dtype=object).reshape(len(X), feature_map.n_features)
    if isinstance(feature_map, PolynomialFeatures):
        rows = []
        for x in X:
            row, term = [Fraction(1)], list(x)
            for _ in range(feature_map.degree):
                row.extend(term)
                term = [t * xi for t, xi in zip(term, x, strict=True)]
            rows.append(row)
        return np.array(rows, dtype=object)
    raise ValueError(
        "method='exact' needs a feature map with exact rational values (LinearFeatures, "
        f"ReLUFeatures, PolynomialFeatures), got {type(feature_map).__name__}; use "
        "method='submatrix'"
    )


def fractions_mod(F: np.ndarray, p: int) -> np.ndarray:
    """Residues of an object array of Fractions (denominators prime to p)."""
    flat = [(f.numerator % p) * pow(f.denominator, -1, p) % p for f in F.ravel()]
    return np.array(flat, dtype=np.float64).reshape(F.shape)


# -- dyadic integers ------------------------------------------------------------------------
class Dyadic:
    """Exact values ``V 2^-s``: V integers (float64 when ``bound < 2^53``, else Python ints
    in an object array), ``bound`` an upper bound on ``max |V|`` (data-independent)."""

    __slots__ = ("V", "s", "bound")

    def __init__(self, V, s: int, bound: float):
        bound = float(bound)
        self.V, self.s, self.bound = V, int(s), math.inf if math.isnan(bound) else bound

    @property
    def exact_float(self) -> bool:
        return self.V.dtype != object

    def reshape(self, *shape) -> Dyadic:
        return Dyadic(self.V.reshape(*shape), self.s, self.bound)

    def take(self, idx) -> Dyadic:
        return Dyadic(self.V[idx], self.s, self.bound)


def _as_object(V: np.ndarray) -> np.ndarray:
    if V.dtype == object:
        return V
    return np.array([int(v) for v in V.ravel()], dtype=object).reshape(V.shape)


def dyadic(values) -> Dyadic:
    """Exact integers ``V`` and scale s with ``values = V 2^-s`` (floats or Fractions)."""
    arr = np.asarray(values)
    fracs = [Fraction(v) if not isinstance(v, Fraction) else v for v in arr.ravel()]
    for f in fracs:
        if f.denominator & (f.denominator - 1):
            raise ValueError(f"value {f} is not a dyadic rational")
    s = max((f.denominator.bit_length() - 1 for f in fracs), default=0)
    ints = [f.numerator * (2**s // f.denominator) for f in fracs]
    bound = _safe_float(max((abs(i) for i in ints), default=0))
    V = np.array(ints, dtype=object).reshape(arr.shape)
    if bound < _EXACT:
        V = V.astype(np.float64)
    return Dyadic(V, s, bound)


def _safe_float(value) -> float:
    """A bound as a float, inf past the float range (the integers are exact regardless)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _scaled(bound: float, k: int) -> float:
    try:
        return math.ldexp(bound, k)
    except OverflowError:
        return math.inf


def _grow(x: Dyadic, bound: float) -> np.ndarray:
    """x's integers in the representation a result of this bound needs."""
    return _as_object(x.V) if bound * (1 + 1e-9) >= _EXACT else x.V


def _shift(x: Dyadic, s: int) -> Dyadic:
    """The same values at scale ``s >= x.s``."""
    k = s - x.s
    if not k:
        return x
    bound = _scaled(x.bound, k)
    V = _grow(x, bound)
    return Dyadic(V * (2**k if V.dtype == object else math.ldexp(1.0, k)), s, bound)


def _relu(x: Dyadic) -> Dyadic:
    return Dyadic(np.maximum(x.V, 0), x.s, x.bound)


def dyadic_combine(xi_name: str, x: Dyadic, y: Dyadic) -> Dyadic:
    """``xi(x, y)`` elementwise (broadcast) for the operators with exact rational values."""
    if xi_name == "product":
        bound = x.bound * y.bound
        return Dyadic(_grow(x, bound) * _grow(y, bound), x.s + y.s, bound)
    if xi_name in ("relu_max", "relu_sum"):
        x, y = _relu(x), _relu(y)
    s = max(x.s, y.s)
    x, y = _shift(x, s), _shift(y, s)
    if xi_name == "relu_sum":
        bound = x.bound + y.bound
        return Dyadic(_grow(x, bound) + _grow(y, bound), s, bound)
    if xi_name in ("relu_max", "max"):
        bound = max(x.bound, y.bound)
        return Dyadic(np.maximum(_grow(x, bound), _grow(y, bound)), s, bound)
    raise ValueError(f"no exact arithmetic for xi={xi_name!r}")


def dyadic_dot(x: Dyadic, W: Dyadic) -> Dyadic:
    """``x @ W`` exactly; the partial sums stay below the result's bound."""
    absW = np.abs(W.V)
    colsum = max((sum(int(v) for v in col) for col in absW.T), default=0)
    bound = x.bound * _safe_float(colsum)
    if bound * (1 + 1e-9) < _EXACT:
        return Dyadic(x.V @ W.V, x.s + W.s, bound)
    return Dyadic(np.dot(_as_object(x.V), _as_object(W.V)), x.s + W.s, bound)


def dyadic_mod(x: Dyadic, p: int) -> np.ndarray:
    """Residues of the integers V (the scale 2^-s is a common factor: ranks are those of V)."""
    if x.exact_float:
        return reduce_mod(x.V.astype(np.float64), p)
    return np.array([int(v) % p for v in x.V.ravel()], dtype=np.float64).reshape(x.V.shape)


# -- exact values of networks ---------------------------------------------------------------
class _ModRing:
    """GF(p) arithmetic, product networks only."""

    def __init__(self, p: int):
        self.p = p

    def param(self, a):
        return to_mod(a, self.p)

    def combine(self, xi_name, x, y):
        return reduce_mod(x * y, self.p)

    def dot(self, x, W):
        return matmul_mod(x, W, self.p)

    def start(self, xi, x):
        return x

    def reshape(self, x, *shape):
        return x.reshape(*shape)

    def take(self, x, idx):
        return x[idx]


class _DyadicRing:
    """Exact dyadic arithmetic, any operator of ``dyadic_combine``."""

    def param(self, a):
        return dyadic(np.asarray(a, dtype=np.float64))

    def combine(self, xi_name, x, y):
        return dyadic_combine(xi_name, x, y)

    def dot(self, x, W):
        return dyadic_dot(x, W)

    def start(self, xi, x):
        if xi.unit is None:
            return x
        unit = dyadic(np.array([xi.unit]))
        return dyadic_combine(xi.name, x, unit.reshape(1, 1))

    def reshape(self, x, *shape):
        return x.reshape(*shape)

    def take(self, x, idx):
        return x.take(idx)


#: Operators whose grid entries are exact rationals computed by ``dyadic_combine``.
EXACT_XI = ("product", "relu_max", "relu_sum", "max")


class ExactNetwork:
    """A CP / TT / HT network's values at template-index tuples, exactly.

    ``arithmetic="mod"``: residues mod ``p`` (product networks); ``"dyadic"``: exact
    integers at a common scale (any operator of :data:`EXACT_XI`). ``F`` is the exact
    feature matrix (Fractions, :func:`exact_feature_matrix`). The recursions are those of the
    networks' ``_scores`` (docs/theory.md sections 1 and 3), on these number types.
    """

    def __init__(self, net, F: np.ndarray, arithmetic: str, p: int | None = None):
        if net.xi.name not in EXACT_XI:
            raise ValueError(
                f"method='exact' supports xi in {list(EXACT_XI)}, got xi={net.xi.name!r}"
            )
        if arithmetic == "mod" and not net.xi.is_product:
            raise ValueError("arithmetic mod p needs a product network")
        self.net, self.arithmetic, self.p = net, arithmetic, p
        if arithmetic == "mod":
            self.ring = _ModRing(p)
            self.F = fractions_mod(F, p)
        else:
            self.ring = _DyadicRing()
            self.F = dyadic(F)
        self.params = _EXACT_RECURSIONS[net.kind][0](self.ring, net)

    def float_only(self) -> bool:
        """Dyadic arithmetic: whether every value stays a float64 integer (fast)."""
        if self.arithmetic == "mod":
            return True
        out = self.values(np.zeros((1, self.net.d), dtype=np.int64))
        return out.exact_float

    def values(self, flat: np.ndarray):
        """Values at index tuples ``flat`` (n, d): residues, or a :class:`Dyadic`."""
        leaves = [self.ring.take(self.F, flat[:, k]) for k in range(self.net.d)]
        values = _EXACT_RECURSIONS[self.net.kind][1]
        return values(self.ring, self.net, self.params, leaves, len(flat))

    def tt_grid(self, U) -> object:
        """A TT network's values on every tuple over the templates ``U`` (all modes), first
        mode slowest: the grid recursion of docs/theory.md 3, the state of one more mode at
        a time, in blocks of rows."""
        ring, net = self.ring, self.net
        mats, first, cores = self.params
        leaf = ring.take(self.F, np.asarray(U))
        a = [leaf] * net.d if mats is None else [ring.dot(leaf, c) for c in mats]
        state = ring.dot(ring.start(net.xi, a[0]), first)
        for t in range(1, net.d):
            M, L = len(U), _width(a[t])
            P, r = _length(state), _width(state)
            per = max(1, _CHUNK_BYTES // (16 * M * L * r))
            blocks = []
            for start in range(0, P, per):
                h = ring.take(state, slice(start, start + per))
                n = _length(h)
                pair = ring.combine(
                    net.xi.name, ring.reshape(a[t], 1, M, L, 1), ring.reshape(h, n, 1, 1, r)
                )
                blocks.append(ring.dot(ring.reshape(pair, n * M, L * r), cores[t - 1]))
            state = _concat(blocks)
        return ring.reshape(state, -1)

    def residues(self, flat: np.ndarray, p: int) -> np.ndarray:
        """Values at ``flat`` as residues mod p (dyadic values: of their integers V)."""
        out = self.values(flat)
        return out if self.arithmetic == "mod" else dyadic_mod(out, p)


# The exact recursions of each kind, on a ring's numbers: ``params(ring, net)``, the
# network's parameters in the ring, and ``values(ring, net, params, leaves, n)``, its values
# from the feature rows ``leaves`` of each mode at n tuples.
def _tt_params(ring, net):
    mats = None if net.matrices is None else [ring.param(c.T) for c in net.matrices]
    first = ring.param(net.cores[0][0])
    cores = [ring.param(np.transpose(c, (1, 0, 2)).reshape(-1, c.shape[2])) for c in net.cores[1:]]
    return mats, first, cores


def _tt_values(ring, net, params, leaves, n):
    mats, first, cores = params
    a = leaves  # the inputs C_t f(x_t) of each step
    if mats is not None:
        a = [ring.dot(leaf, c) for leaf, c in zip(leaves, mats, strict=True)]
    h = ring.dot(ring.start(net.xi, a[0]), first)
    for t in range(1, net.d):
        L, r = _width(a[t]), _width(h)
        pair = ring.combine(net.xi.name, ring.reshape(a[t], n, L, 1), ring.reshape(h, n, 1, r))
        h = ring.dot(ring.reshape(pair, n, L * r), cores[t - 1])
    return ring.reshape(h, n)


def _cp_params(ring, net):
    return [ring.param(f) for f in net.factors], ring.param(net.weights)


def _cp_values(ring, net, params, leaves, n):
    factors, weights = params
    z = [ring.dot(leaf, f) for leaf, f in zip(leaves, factors, strict=True)]
    out = z[0]
    for term in z[1:]:
        out = ring.combine(net.xi.name, out, term)
    return ring.reshape(ring.dot(out, weights), n)


def _ht_params(ring, net):
    return [
        ring.param(f if net.tree.is_leaf(node) else f.reshape(-1, f.shape[2]))
        for node, f in enumerate(net.factors)
    ]


def _ht_values(ring, net, factors, leaves, n):
    tree = net.tree
    phi = [None] * tree.n_nodes
    for k, leaf in enumerate(leaves):
        node = tree.leaf(k)
        phi[node] = ring.dot(leaf, factors[node])
    for node in tree.internal_nodes:
        left, right = tree.children(node)
        ra, rb = _width(phi[left]), _width(phi[right])
        pair = ring.combine(
            net.xi.name, ring.reshape(phi[left], n, ra, 1), ring.reshape(phi[right], n, 1, rb)
        )
        phi[node] = ring.dot(ring.reshape(pair, n, ra * rb), factors[node])
    return ring.reshape(phi[tree.root], n)


#: ``(params, values)`` of each network kind for :class:`ExactNetwork`.
_EXACT_RECURSIONS = {
    "tt": (_tt_params, _tt_values),
    "cp": (_cp_params, _cp_values),
    "ht": (_ht_params, _ht_values),
}


def _width(x) -> int:
    return (x.V if isinstance(x, Dyadic) else x).shape[-1]


def _length(x) -> int:
    return (x.V if isinstance(x, Dyadic) else x).shape[0]


def _concat(blocks):
    if not isinstance(blocks[0], Dyadic):
        return np.concatenate(blocks, axis=0)
    bound = max(b.bound for b in blocks)
    if any(not b.exact_float for b in blocks):
        V = np.concatenate([_as_object(b.V) for b in blocks], axis=0)
    else:
        V = np.concatenate([b.V for b in blocks], axis=0)
    return Dyadic(V, blocks[0].s, bound)


def matricize_vector(vector, modes, subsets, S, T) -> np.ndarray:
    """The values of every tuple over ``subsets`` (the modes in the order ``modes``, first
    slowest) as the matrix of rows over S and columns over T (:func:`mode_tuples` order),
    with axes only for the modes of more than one template."""
    sizes = {k: len(subsets[k]) for k in range(len(subsets))}
    kept = [k for k in modes if sizes[k] > 1]
    if not kept:
        return np.asarray(vector).reshape(1, 1)
    tensor = np.asarray(vector).reshape([sizes[k] for k in kept])
    order = [kept.index(k) for k in S if sizes[k] > 1] + [kept.index(k) for k in T if sizes[k] > 1]
    n_rows = int(np.prod([sizes[k] for k in S]))
    return np.transpose(tensor, order).reshape(n_rows, -1)


# -- product networks on sub-grids: the matrix without a d-way array -----------------------
def mode_tuples(subsets, modes) -> np.ndarray:
    """Every tuple over ``subsets[k]`` for k in ``modes`` (first mode slowest), without an
    array with one axis per mode."""
    out = np.zeros((1, 0), dtype=np.int64)
    for k in modes:
        u = np.asarray(subsets[k], dtype=np.int64)
        out = np.concatenate(
            [np.repeat(out, len(u), axis=0), np.tile(u, len(out))[:, None]], axis=1
        )
    return out


class FloatArithmetic:
    """float64 numbers for :func:`structured_matrix`."""

    @staticmethod
    def param(a):
        return np.asarray(a, dtype=np.float64)

    @staticmethod
    def mm(a, b):
        return small_matmul(a, b)

    @staticmethod
    def mul(a, b):
        return a * b


class ModArithmetic:
    """Residues mod p for :func:`structured_matrix`."""

    def __init__(self, p: int):
        self.p = p

    def param(self, a):
        return to_mod(a, self.p)

    def mm(self, a, b):
        return matmul_mod(a, b, self.p)

    def mul(self, a, b):
        return reduce_mod(a * b, self.p)


def structured_matrix(net, F, subsets, S, T, arith) -> np.ndarray:
    """Matricization (rows: tuples over S, columns: over T, as :func:`mode_tuples`) of a
    product network's grid restricted to per-mode template subsets.

    ``F`` is the feature matrix and the network's parameters are used through ``arith``
    (:class:`FloatArithmetic` or :class:`ModArithmetic`: ``param``, ``mm``, ``mul``). The
    contraction runs over the TT / CP / HT structure (docs/theory.md 2),
    keeping one axis for all the modes visited so far, so any d works; frozen modes
    (one template) add no axis.
    """
    leaf = [F[np.asarray(subsets[k])] for k in range(net.d)]
    return _STRUCTURED[net.kind](net, leaf, subsets, S, T, arith)


def _tt_structured(net, leaf, subsets, S, T, arith) -> np.ndarray:
    d = net.d
    state = _tt_contract(net, leaf, subsets, range(d), np.ones((1, 1)), arith)
    return matricize_vector(state[:, 0], list(range(d)), subsets, S, T)


def _cp_structured(net, leaf, subsets, S, T, arith) -> np.ndarray:
    param, mm, mul = arith.param, arith.mm, arith.mul
    z = [mm(leaf[k], param(f)) for k, f in enumerate(net.factors)]
    left = _khatri_rao([z[k] for k in S], mul)
    right = _khatri_rao([z[k] for k in T], mul)
    weighted = mul(left, param(net.weights[:, 0])[None, :])
    return mm(weighted, np.ascontiguousarray(right.T))


def _ht_structured(net, leaf, subsets, S, T, arith) -> np.ndarray:
    param, mm = arith.param, arith.mm
    tree = net.tree
    U, modes_of = [None] * tree.n_nodes, [None] * tree.n_nodes
    for k in range(net.d):
        node = tree.leaf(k)
        U[node], modes_of[node] = mm(leaf[k], param(net.factors[node])), [k]
    for node in tree.internal_nodes:
        lft, rgt = tree.children(node)
        B = net.factors[node]
        ra, rb, rc = B.shape
        t1 = mm(U[lft], param(B.reshape(ra, rb * rc))).reshape(-1, rb, rc)
        nl = t1.shape[0]
        t2 = mm(U[rgt], np.ascontiguousarray(np.transpose(t1, (1, 0, 2)).reshape(rb, -1)))
        U[node] = np.transpose(t2.reshape(-1, nl, rc), (1, 0, 2)).reshape(-1, rc)
        modes_of[node] = modes_of[lft] + modes_of[rgt]
        U[lft] = U[rgt] = None
    return matricize_vector(U[tree.root][:, 0], modes_of[tree.root], subsets, S, T)


#: :func:`structured_matrix` of each network kind: ``(net, leaf, subsets, S, T, arith)``,
#: ``leaf[k]`` the feature rows of mode k's templates.
_STRUCTURED = {"tt": _tt_structured, "cp": _cp_structured, "ht": _ht_structured}


def _tt_contract(net, leaf, subsets, modes, state, arith) -> np.ndarray:
    """``state`` (rows, r) times the TT cores of ``modes`` with their leaves: (rows * tuples,
    r'), each tuple's row after its prefix row (first mode slowest)."""
    param, mm = arith.param, arith.mm
    carry = np.eye(state.shape[1])
    for t in modes:
        core = net.cores[t]
        x = leaf[t] if net.matrices is None else mm(leaf[t], param(net.matrices[t].T))
        r0, L, r1 = core.shape
        # G'[a, u, b] = sum_i x[u, i] core[a, i, b]
        g = mm(x, param(np.transpose(core, (1, 0, 2)).reshape(L, r0 * r1)))
        g = np.transpose(g.reshape(-1, r0, r1), (1, 0, 2)).reshape(r0, -1)
        # frozen modes (one template) are r x r matrices: multiplied together first, so that
        # the state (one row per tuple) is touched once per mode that grows it
        carry = mm(carry, g)
        if len(subsets[t]) > 1:
            state, carry = mm(state, carry).reshape(-1, r1), np.eye(r1)
    return mm(state, carry)


def kronecker_full_rank(net, F, subsets, S, T, p: int) -> bool:
    """Whether the product TT network's matricization on ``subsets`` (rows S, columns T) is
    certified of full rank by the two-term Kronecker argument at the middle bond; False when
    the argument does not apply or does not decide (then eliminate).

    With the bond r_h = 2 between the two halves (h = d / 2, each half holding as many row
    as column modes), ``B = A_1 (x) B_1 + A_2 (x) B_2`` with A_b, B_b the matricizations of the
    halves at bond value b. With A_1, B_1 invertible, ``B ~ I + X (x) Y`` (X = A_1^-1 A_2,
    Y = B_1^-1 B_2), singular exactly when some eigenvalues satisfy ``lambda mu = -1``, i.e.
    when ``det(tI - X)`` and ``det(I + tY)`` share a root. Coprime mod p implies coprime over
    Q (the first is monic): full rank, in O(n^3) on n = sqrt(size) instead of O(size^3)
    (docs/theory.md 4.4).
    """
    d = net.d
    h = d // 2
    if net.kind != "tt" or d % 2 or net.cores[h - 1].shape[2] != 2 or net.matrices is not None:
        return False
    S1, T1 = [k for k in S if k < h], [k for k in T if k < h]
    S2, T2 = [k for k in S if k >= h], [k for k in T if k >= h]
    if not S1 or not T1 or not S2 or not T2:
        return False
    sizes = [int(np.prod([len(subsets[k]) for k in side])) for side in (S1, T1, S2, T2)]
    if sizes[0] != sizes[1] or sizes[2] != sizes[3] or max(sizes) > _KRONECKER_BLOCK:
        return False
    arith = ModArithmetic(p)
    leaf = [F[np.asarray(subsets[k])] for k in range(d)]
    left = _tt_contract(net, leaf, subsets, range(h), np.ones((1, 1)), arith)  # (N1, 2)
    right = _tt_contract(net, leaf, subsets, range(h, d), np.eye(2), arith)  # (2 N2, 1)
    right = right.reshape(2, -1)
    halves = [list(range(h)), list(range(h, d))]
    A = [matricize_vector(left[:, b], halves[0], subsets, S1, T1) for b in range(2)]
    B = [matricize_vector(right[b], halves[1], subsets, S2, T2) for b in range(2)]
    if A[0].shape[0] != A[0].shape[1] or B[0].shape[0] != B[0].shape[1]:
        return False
    from threadpoolctl import threadpool_limits

    # small products: BLAS threads cost more than they give (40x on a busy machine)
    with threadpool_limits(1):
        if rank_mod_p(A[0], p) < A[0].shape[0] or rank_mod_p(B[0], p) < B[0].shape[0]:
            return False
        X = matmul_mod(gauss_jordan_inverse(A[0], p), A[1], p)
        Y = matmul_mod(gauss_jordan_inverse(B[0], p), B[1], p)
        px = _charpoly(X, p)  # det(tI - X), coefficients from t^n down
        py = _charpoly(Y, p)
    n = len(py) - 1
    # det(I + tY) = (-1)^n t^n p_Y(-1/t): coefficient of t^(n-k) is (-1)^(n-k) c_k
    # (c_k of t^k in p_Y), listed from t^n down
    q = [((-1) ** (n + j) * int(py[n - j])) % p for j in range(n + 1)]
    return _poly_gcd_degree(px, q, p) == 0


def _charpoly(A: np.ndarray, p: int) -> list[int]:
    """``det(tI - A) mod p`` (Faddeev-LeVerrier: divisions by k < n < p only), coefficients
    from t^n down to t^0."""
    n = A.shape[0]
    coeffs = [1]
    M = np.zeros_like(A)
    eye = np.eye(n)
    for k in range(1, n + 1):
        M = reduce_mod(matmul_mod(A, M, p) + coeffs[-1] * eye, p)
        trace = int(np.trace(matmul_mod(A, M, p))) % p
        coeffs.append((-trace * pow(k, -1, p)) % p)
    return coeffs


def _poly_gcd_degree(a: list[int], b: list[int], p: int) -> int:
    """Degree of gcd(a, b) over GF(p) (coefficients from the highest power down)."""

    def trim(c):
        while c and c[0] % p == 0:
            c = c[1:]
        return [x % p for x in c]

    a, b = trim(a), trim(b)
    while b:
        inv = pow(b[0], -1, p)
        while len(a) >= len(b) and a:
            f = a[0] * inv % p
            a = trim([x - f * y for x, y in zip(a, b + [0] * (len(a) - len(b)), strict=True)])
        a, b = b, a
    return len(a) - 1


def _khatri_rao(mats, mul) -> np.ndarray:
    out = np.ones((1, mats[0].shape[1]))
    for m in mats:
        out = mul(out[:, None, :], m[None, :, :]).reshape(-1, m.shape[1])
    return out
