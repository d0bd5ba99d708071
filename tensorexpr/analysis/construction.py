"""Universality as a construction: explicit generalized networks with a given grid tensor.

[K19] Theorem 5.1 says that every tensor in R^(M^d) is the grid tensor of a generalized shallow
network and of a generalized RNN with xi = max(x, y, 0). Its proof is constructive (one-hot
grid tensors are realisable, Lemma 5.2; sums of networks are networks, Lemma 5.1).
:func:`construct_generalized` builds such networks explicitly, with smaller ranks than the sum
of one-hot terms (docs/theory.md, section 8): a certificate of universality instead of a
gradient fit. For xi = product it returns the exact CP / TT-SVD / HT-SVD network; for
xi = relu_sum, which is not universal, the network realising the orthogonal projection on the
reachable set, whose distance to the tensor is :func:`relu_sum_floor`.

Every network is built through the public constructors of :mod:`tensorexpr.networks`; the
templates only enter through their feature matrix F, which must have full row rank M, so that
any leaf values ``z = F v`` are reachable (``v = F^+ z``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from itertools import product

import numpy as np
import tensorly as tl

from ..decomposition import ht_svd, tt_svd
from ..features import FeatureMap, LinearFeatures
from ..grid import feature_matrix
from ..networks import KINDS, CPNetwork, HTNetwork, TTNetwork
from ..operators import get_operator
from ..trees import DimensionTree, check_tree

__all__ = [
    "construct_generalized",
    "construction_ranks",
    "relu_sum_floor",
    "relu_sum_projection",
    "ConstructionRanks",
]

XIS = ("relu_max", "product", "relu_sum")
#: Largest grid tensor accepted (entries): the construction reads every entry.
MAX_ENTRIES = 2**24


# -- validation ---------------------------------------------------------------------------
def _check_grid(tensor) -> np.ndarray:
    if tl.is_tensor(tensor) and not isinstance(tensor, np.ndarray):
        tensor = tl.to_numpy(tensor)
    try:
        arr = np.asarray(tensor)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"tensor must be an array of real numbers, got {tensor!r}") from exc
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"tensor must be an array of real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"tensor must be real, got dtype {arr.dtype}")
    if arr.ndim < 2:
        raise ValueError(f"tensor must have order d >= 2, got shape {arr.shape}")
    if len(set(arr.shape)) != 1:
        raise ValueError(f"tensor must have all modes of the same size M, got shape {arr.shape}")
    if arr.size > MAX_ENTRIES:
        raise ValueError(
            f"tensor has {arr.size} entries; the construction reads every entry and builds "
            f"states of up to M^(d-1) channels, at most {MAX_ENTRIES} entries are accepted"
        )
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("tensor must contain only finite values (no NaN or inf)")
    return arr


def _check_choice(value, name: str, choices) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {choices}, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def _check_tree(tree, kind: str, d: int) -> DimensionTree | None:
    if kind != "ht":
        if tree is not None:
            raise ValueError(f"tree is only used with kind='ht', got kind={kind!r}")
        return None
    return check_tree(tree, d)


def _features(M: int, templates, feature_map) -> tuple[FeatureMap, np.ndarray]:
    """The feature map and the pseudo-inverse ``F^+`` of the templates' feature matrix."""
    if templates is None:
        if feature_map is not None:
            raise ValueError("feature_map needs templates: pass the templates it is evaluated on")
        return LinearFeatures.identity(M), np.eye(M)
    points = np.asarray(templates, dtype=np.float64)
    if points.ndim == 1:
        points = points[:, None]
    if feature_map is None:
        if points.ndim != 2:
            raise ValueError(f"templates must have shape (M, n), got {points.shape}")
        feature_map = LinearFeatures.identity(points.shape[1])
    if not isinstance(feature_map, FeatureMap):
        raise TypeError(f"feature_map must be a FeatureMap, got {type(feature_map).__name__}")
    with tl.backend_context("numpy"):
        F = np.asarray(feature_matrix(feature_map, points), dtype=np.float64)
    if F.shape[0] != M:
        raise ValueError(
            f"templates must hold M={M} points like the tensor's modes, got {F.shape[0]}"
        )
    rank = int(np.linalg.matrix_rank(F))
    if rank < M:
        raise ValueError(
            f"the templates' feature matrix must have full row rank M={M} (so that every grid "
            f"value is reachable), got shape {F.shape} and rank {rank}"
        )
    return feature_map, np.linalg.pinv(F)


# -- relu_max -----------------------------------------------------------------------------
def _range(T: np.ndarray) -> tuple[float, float]:
    """``lo`` (the shift making every value >= 0) and ``K`` (a bound on the shifted values).

    K is a power of 2: the networks add many copies of K to one value and subtract them
    again; multiples of a power of 2 add exactly in floating point, so only the value itself
    is rounded (to the ulp of N K) and the constructed networks stay within ~1e-13.
    """
    lo, hi = float(T.min()), float(T.max())
    spread = (hi - lo) if hi > lo else max(abs(lo), 1.0)
    return lo, float(2.0 ** np.ceil(np.log2(spread)))


def _mismatch(M: int, scale: float = 1.0) -> np.ndarray:
    """``Z[i, c] = scale * [i != c]``: the leaf values of 'x_k is not template c'."""
    return scale * (1.0 - np.eye(M))


def _relu_max_cp(T, fmap, Finv, tree):
    # docs/theory.md 8.1: one term per prefix p = (i_1..i_{d-1}),
    #   max(K [i_<d != p], g_p(i_d), 0) = K - 1_p(i_<d) (K - g_p(i_d)),  g_p = T[p, :] - lo >= 0,
    # so the sum over p is (N - 1) K + T - lo, and one constant term removes (N - 1) K - lo.
    d, M = T.ndim, T.shape[0]
    N = M ** (d - 1)
    lo, K = _range(T)
    prefixes = np.array(list(product(range(M), repeat=d - 1))).reshape(N, d - 1)
    z = [K * (np.arange(M)[:, None] != prefixes[None, :, k]) for k in range(d - 1)]
    z.append((T.reshape(N, M) - lo).T)
    weights = np.ones(N)
    constant = (N - 1) * K - lo
    if constant != 0:
        z = [np.hstack([zk, np.full((M, 1), K)]) for zk in z]
        weights = np.append(weights, -constant / K)
    return CPNetwork([Finv @ zk for zk in z], fmap, weights=weights, xi="relu_max")


def _relu_max_tt(T, fmap, Finv, tree):
    # docs/theory.md 8.2. Steps t < t* carry the mismatch indicators u_t[P] = [i_<=t != P]
    # of all prefixes P (rank M^t); step t* turns them into the values W[s] = T[i_<=t*, s] - lo
    # of all suffixes s (rank M^(d-t*)); steps t > t* select W[(i_t, s')] by
    # sum_c max(K [i_t != c], W[(c, s')], 0) = W[(i_t, s')] + (M - 1) K.
    # The input C_t f(x_t) has M mismatch rows and one constant row, the source of constants.
    d, M = T.ndim, T.shape[0]
    L = M + 1
    lo, K = _range(T)
    t_star = (d + 1) // 2
    cores, inputs = [], []
    for t in range(1, d + 1):
        scale = 1.0 if t <= t_star else K
        inputs.append(np.hstack([_mismatch(M, scale), np.full((M, 1), scale)]))
        if t < t_star:
            r_prev = M ** (t - 1)
            core = np.zeros((r_prev, L, r_prev * M))
            for P in range(r_prev):
                core[P, np.arange(M), P * M + np.arange(M)] = 1.0
        elif t == t_star:
            V = (T - lo).reshape(M ** (t - 1), M, M ** (d - t))
            core = np.zeros((M ** (t - 1), L, M ** (d - t)))
            core[:, :M, :] = -V
            core[0, M, :] = V.sum(axis=(0, 1))  # xi(1, u_P) = 1: the constant
        else:
            n_next = M ** (d - t)
            core = np.zeros((M * n_next, L, n_next))
            for c in range(M):
                core[c * n_next + np.arange(n_next), c, np.arange(n_next)] = 1.0
            core[0, M, :] = -(M - 1)  # xi(K, W[0]) = K: removes (M - 1) K
            if t == d:
                core[0, M, 0] += lo / K
        cores.append(core)
    matrices = [(Finv @ a).T for a in inputs]
    return TTNetwork(cores, fmap, xi="relu_max", matrices=matrices)


def _ht_plan(tree: DimensionTree, d: int, M: int, T: np.ndarray):
    """Which nodes carry indicators ('ind') or values ('val'), their shifts and scales."""
    role, shift, bound = {}, {}, {}
    lo, K0 = _range(T)
    spread = K0 if T.max() > T.min() else 0.0
    for node in range(tree.n_nodes):
        size = len(tree.modes(node))
        role[node] = "ind" if (2 * size <= d and node != tree.root) else "val"
        if role[node] == "ind":
            continue
        left, right = tree.children(node)
        if role[left] == "ind" and role[right] == "ind":
            shift[node] = 0.0 if node == tree.root else -lo
        else:
            val = left if role[left] == "val" else right
            ind = right if val == left else left
            # K >= every value W of the value child (values are T + shift >= 0)
            bound[node] = max(float(T.max()) + shift[val], spread, 1.0)
            n_ind = M ** len(tree.modes(ind))
            shift[node] = 0.0 if node == tree.root else shift[val] + (n_ind - 1) * bound[node]
    scale = {tree.root: 1.0}
    for node in reversed(range(tree.n_nodes)):
        children = tree.children(node)
        if children is None:
            continue
        for child in children:
            if role[node] == "ind":
                scale[child] = scale[node]
            elif node in bound:
                scale[child] = bound[node]
            else:
                scale[child] = 1.0
    return role, shift, bound, scale


def _complement(tree: DimensionTree, node: int, d: int) -> tuple[int, ...]:
    return tuple(k for k in range(d) if k not in tree.modes(node))


def _relu_max_ht(T, fmap, Finv, tree):
    # docs/theory.md 8.3: nodes with |S| <= d/2 carry mismatch indicators of all i_S (rank
    # M^|S|), larger nodes the values T + shift of all complements (rank M^(d-|S|)).
    d, M = T.ndim, T.shape[0]
    role, shift, bound, scale = _ht_plan(tree, d, M, T)
    root_children = tree.children(tree.root)
    # a root over an indicator child and a value child needs one constant channel (value K)
    const_child = None
    if tree.root in bound:
        const_child = next(c for c in root_children if role[c] == "ind")
    factors = [None] * tree.n_nodes
    rank = {}
    for node in range(tree.n_nodes):
        extra = 1 if node == const_child else 0
        if tree.is_leaf(node):
            Z = _mismatch(M, scale[node])
            if extra:
                Z = np.hstack([Z, np.full((M, 1), bound[tree.root])])
            factors[node] = Finv @ Z
            rank[node] = Z.shape[1]
            continue
        left, right = tree.children(node)
        nl, nr = rank[left], rank[right]
        if role[node] == "ind":
            n = nl * nr
            B = np.zeros((nl, nr, n + extra))
            B[np.repeat(np.arange(nl), nr), np.tile(np.arange(nr), nl), np.arange(n)] = 1.0
            if extra:  # sum of all xi values = scale (N - 1): the constant K
                B[:, :, n] = bound[tree.root] / (scale[node] * (n - 1))
        elif node not in bound:
            # values from two indicator children (scale 1):
            # W[s] = sum_pq (sum V / (N - 1) - V[p, q, s]) xi(u_l[p], u_r[q])
            comp = _complement(tree, node, d)
            order = tree.modes(left) + tree.modes(right) + comp
            V = np.transpose(T, order).reshape(nl, nr, -1) + shift[node]
            B = V.sum(axis=(0, 1), keepdims=True) / (nl * nr - 1) - V
        else:
            val = left if role[left] == "val" else right
            ind = right if val == left else left
            n_ind = M ** len(tree.modes(ind))
            comp = _complement(tree, node, d)
            val_comp = _complement(tree, val, d)  # = modes(ind) + comp, sorted
            n_out = M ** len(comp)
            p_idx, s_idx = np.meshgrid(np.arange(n_ind), np.arange(n_out), indexing="ij")
            digits = dict(
                zip(
                    tree.modes(ind) + comp,
                    np.unravel_index(p_idx.ravel() * n_out + s_idx.ravel(), (M,) * (len(val_comp))),
                    strict=True,
                )
            )
            w_idx = np.ravel_multi_index(tuple(digits[k] for k in val_comp), (M,) * len(val_comp))
            Bt = np.zeros((rank[ind], rank[val], n_out))
            Bt[p_idx.ravel(), w_idx, s_idx.ravel()] = 1.0
            if node == tree.root:
                # W_val[i] + shift + (N_ind - 1) K, minus the constant from xi(K, W[0]) = K
                Bt[n_ind, 0, 0] = -(shift[val] + (n_ind - 1) * bound[node]) / bound[node]
            B = Bt if ind == left else np.transpose(Bt, (1, 0, 2))
        factors[node] = B
        rank[node] = B.shape[2]
    return HTNetwork(factors, fmap, tree=tree, xi="relu_max")


# -- product ------------------------------------------------------------------------------
# built on the numpy backend (the decompositions compute there)
def _product_cp(T, fmap, Finv, tree):
    # slices: T = sum_p e_p1 (x) ... (x) e_p(d-1) (x) T[p, :], width M^(d-1)
    d, M = T.ndim, T.shape[0]
    N = M ** (d - 1)
    prefixes = np.array(list(product(range(M), repeat=d - 1))).reshape(N, d - 1)
    z = [np.eye(M)[:, prefixes[:, k]] for k in range(d - 1)] + [T.reshape(N, M).T]
    with tl.backend_context("numpy"):
        return CPNetwork([Finv @ zk for zk in z], fmap, xi="product")


def _product_tt(T, fmap, Finv, tree):
    with tl.backend_context("numpy"):
        tt = tt_svd(T)
        cores = [np.einsum("mi,jik->jmk", Finv, np.asarray(c)) for c in tt.factors]
        return TTNetwork(cores, fmap, xi="product")


def _product_ht(T, fmap, Finv, tree):
    with tl.backend_context("numpy"):
        ht = ht_svd(T, tree=tree)
        factors = [
            Finv @ np.asarray(f) if tree.is_leaf(node) else np.asarray(f)
            for node, f in enumerate(ht.factors)
        ]
        return HTNetwork(factors, fmap, tree=tree, xi="product")


# -- relu_sum -----------------------------------------------------------------------------
#: The groups of modes a relu_sum network of each kind is additive over (theory 8.4):
#: ``groups(d, tree)``.
ADDITIVE_GROUPS = {
    "cp": lambda d, tree: [(k,) for k in range(d)],
    "tt": lambda d, tree: [tuple(range(d - 1)), (d - 1,)],
    "ht": lambda d, tree: [tree.modes(c) for c in tree.children(tree.root)],
}


def relu_sum_projection(tensor, kind: str = "cp", tree: DimensionTree | None = None) -> np.ndarray:
    """The closest grid tensor (Frobenius) of a relu_sum network of the given kind.

    relu_sum networks (xi = max(x, 0) + max(y, 0), average pooling) of any width or rank
    reach exactly the tensors that are sums of functions of groups of modes
    (docs/theory.md, section 8.4): every mode alone for shallow (CP) networks, the last mode
    and all the others for RNNs (TT), the two subtrees of the root for HT networks. The
    projection on that subspace is the grand mean plus the centred group marginals.

    Parameters
    ----------
    tensor : array-like of shape (M,) * d
    kind : {"cp", "tt", "ht"}
    tree : DimensionTree, optional
        HT only; ``DimensionTree.balanced(d)`` by default.

    Returns
    -------
    ndarray of shape (M,) * d

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import relu_sum_projection
    >>> T = np.arange(4.0).reshape(2, 2) ** 2
    >>> relu_sum_projection(T, "cp")
    array([[-1.,  2.],
           [ 5.,  8.]])
    """
    T = _check_grid(tensor)
    kind = _check_choice(kind, "kind", KINDS)
    tree = _check_tree(tree, kind, T.ndim)
    d = T.ndim
    mean = T.mean()
    fit = np.full(T.shape, mean)
    for group in ADDITIVE_GROUPS[kind](d, tree):
        other = tuple(k for k in range(d) if k not in group)
        marginal = T.mean(axis=other, keepdims=True) - mean
        fit = fit + marginal
    return fit


def relu_sum_floor(tensor, kind: str = "cp", tree: DimensionTree | None = None) -> float:
    """Relative distance from a tensor to the grid tensors of relu_sum networks of a kind.

    No relu_sum network of the kind, of any width or rank, has a grid tensor closer than
    this; :func:`construct_generalized` with ``xi="relu_sum"`` attains it
    (docs/theory.md, section 8.4).

    Parameters
    ----------
    tensor : array-like of shape (M,) * d, not identically zero
    kind : {"cp", "tt", "ht"}
    tree : DimensionTree, optional

    Returns
    -------
    float
        ``||tensor - relu_sum_projection(tensor)|| / ||tensor||``.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import relu_sum_floor
    >>> round(relu_sum_floor(np.add.outer(np.arange(3.0), np.ones(3)), "cp"), 12)
    0.0
    >>> round(relu_sum_floor(np.eye(2), "cp"), 6)  # I - 1/2: no additive part
    0.707107
    """
    T = _check_grid(tensor)
    norm = float(np.linalg.norm(T))
    if norm == 0:
        raise ValueError("tensor must not be identically zero (the relative error is undefined)")
    return float(np.linalg.norm(T - relu_sum_projection(T, kind, tree)) / norm)


def _relu_sum_cp(T, fmap, Finv, tree):
    # one term sum_k relu(z_k[i_k]) with z_k >= 0, one constant term (relu(1) d times)
    d, M = T.ndim, T.shape[0]
    P = relu_sum_projection(T, "cp", tree)
    mean = P.mean()
    marginals = [P.mean(axis=tuple(j for j in range(d) if j != k)) - mean for k in range(d)]
    z = [g - g.min() for g in marginals]
    constant = mean + sum(g.min() for g in marginals)
    factors = [Finv @ np.stack([zk, np.ones(M)], axis=1) for zk in z]
    return CPNetwork(factors, fmap, weights=np.array([1.0, constant / d]), xi="relu_sum")


# TT / HT: indicator states relu(h[P]) = [i_S == P] built by h = e_c + 1_P - 1
# (the -1 from the constant sums of indicators), then a linear output layer.
def _relu_sum_tt(T, fmap, Finv, tree):
    d, M = T.ndim, T.shape[0]
    P = relu_sum_projection(T, "tt", tree)
    mean = P.mean()
    f = P.reshape(-1, M).mean(axis=0) - mean  # function of i_d
    g = P.reshape(-1, M).mean(axis=1)  # function of i_<d
    cores = []
    for t in range(1, d):
        r_prev = M ** (t - 1)
        core = np.zeros((r_prev, M, r_prev * M))
        for p in range(r_prev):
            core[p, np.arange(M), p * M + np.arange(M)] = 1.0
        if t > 1:
            core -= 1.0 / (r_prev + M)
        cores.append(core)
    cores.append(_sum_output(g, f)[:, :, None])
    return TTNetwork(cores, fmap, xi="relu_sum", matrices=[Finv.T] * d)


def _relu_sum_ht(T, fmap, Finv, tree):
    M = T.shape[0]
    P = relu_sum_projection(T, "ht", tree)
    mean = P.mean()
    factors = [None] * tree.n_nodes
    for node in range(tree.n_nodes):
        if tree.is_leaf(node):
            factors[node] = Finv.copy()
        elif node != tree.root:
            nl, nr = (factors[c].shape[-1] for c in tree.children(node))
            B = np.zeros((nl, nr, nl * nr))
            B[np.repeat(np.arange(nl), nr), np.tile(np.arange(nr), nl), np.arange(nl * nr)] = 1.0
            factors[node] = B - 1.0 / (nl + nr)
    left, right = tree.children(tree.root)
    order = tree.modes(left) + tree.modes(right)
    Pm = np.transpose(P, order).reshape(M ** len(tree.modes(left)), -1)
    u = Pm.mean(axis=1) - mean
    v = Pm.mean(axis=0)
    factors[tree.root] = _sum_output(u, v)[:, :, None]
    return HTNetwork(factors, fmap, tree=tree, xi="relu_sum")


def _sum_output(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``G[a, b]`` with ``sum_ab G[a, b] (x_a + y_b) = u . x + v . y`` when x, y are indicators.

    Row and column sums of ``u / nv + v / nu`` are ``u + sum v / nu`` and ``v + sum u / nv``;
    the constant ``gamma`` removes the excess (every indicator vector sums to 1).
    """
    nu, nv = len(u), len(v)
    gamma = -(v.sum() / nu + u.sum() / nv) / (nu + nv)
    return u[:, None] / nv + v[None, :] / nu + gamma


# -- public -------------------------------------------------------------------------------
#: The construction of every operator (``XIS``) and network kind (``KINDS``):
#: ``build(T, fmap, Finv, tree)``, ``tree`` None but for HT.
BUILDERS = {
    "relu_max": {"cp": _relu_max_cp, "tt": _relu_max_tt, "ht": _relu_max_ht},
    "product": {"cp": _product_cp, "tt": _product_tt, "ht": _product_ht},
    "relu_sum": {"cp": _relu_sum_cp, "tt": _relu_sum_tt, "ht": _relu_sum_ht},
}


def construct_generalized(
    tensor,
    kind: str = "cp",
    xi: str = "relu_max",
    *,
    templates=None,
    feature_map: FeatureMap | None = None,
    tree: DimensionTree | None = None,
) -> CPNetwork | TTNetwork | HTNetwork:
    """An explicit generalized network whose grid tensor is the given tensor.

    The constructive side of [K19] Theorem 5.1 (docs/theory.md, section 8): for
    ``xi="relu_max"`` (ReLU and max pooling) and ``xi="product"`` every tensor is the grid
    tensor of a shallow (CP) network, a generalized RNN (TT, with input matrices ``C_t``) and
    a generalized HT network; the construction returns one, with the ranks of
    :func:`construction_ranks`. For ``xi="relu_sum"`` (average pooling), which is not
    universal, it returns the network whose grid tensor is :func:`relu_sum_projection`, the
    closest one any relu_sum network of that kind reaches.

    Parameters
    ----------
    tensor : array-like of shape (M,) * d
        The grid tensor, d >= 2, every mode of size M.
    kind : {"cp", "tt", "ht"}, default "cp"
        Shallow, recurrent or hierarchical (tree) network.
    xi : {"relu_max", "product", "relu_sum"}, default "relu_max"
    templates : array of shape (M, n), optional
        The template points; one-hot ``np.eye(M)`` by default.
    feature_map : FeatureMap, optional
        Evaluated on the templates; the identity on R^n by default. The feature matrix
        ``F`` (M, m) must have full row rank M (e.g. invertible), otherwise a ValueError.
    tree : DimensionTree, optional
        HT only; ``DimensionTree.balanced(d)`` by default.

    Returns
    -------
    CPNetwork, TTNetwork or HTNetwork
        With ``xi`` and ``feature_map``; ``network(X)`` on every tuple of templates gives
        ``tensor`` up to rounding (relative error ~1e-15; for relu_sum, the projection).

    References
    ----------
    [K19] V. Khrulkov, O. Hrinchuk, I. Oseledets. Generalized tensor models for recurrent
    neural networks. ICLR 2019, Theorem 5.1 and Lemmas 5.1-5.2.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> T = np.random.default_rng(0).standard_normal((3, 3, 3))
    >>> net = te.construct_generalized(T, "tt", xi="relu_max")
    >>> net.ranks
    (1, 3, 3, 1)
    >>> G = te.grid_tensor(net, np.eye(3), d=3)  # the network evaluated on every tuple
    >>> bool(np.linalg.norm(G - T) <= 1e-12 * np.linalg.norm(T))
    True
    """
    T = _check_grid(tensor)
    kind = _check_choice(kind, "kind", KINDS)
    xi = _check_choice(get_operator(xi).name if not isinstance(xi, str) else xi, "xi", XIS)
    tree = _check_tree(tree, kind, T.ndim)
    fmap, Finv = _features(T.shape[0], templates, feature_map)
    return BUILDERS[xi][kind](T, fmap, Finv, tree)


@dataclass(frozen=True)
class ConstructionRanks:
    """Ranks :func:`construct_generalized` uses for a generic tensor, beside the references.

    Parameters
    ----------
    kind, xi : str
    M, d : int
    ranks : tuple of int
        CP: ``(width,)``; TT: ``(r_1, ..., r_{d-1})``; HT: every non-root node, post-order.
    one_entry_per_term : int
        ``M^d``: the proof's route, one network per entry of the tensor (Lemma 5.2) summed
        by Lemma 5.1 (ranks add), uses at least this width or rank (docs/theory.md, 6).
    product_lower : tuple of int
        Ranks a product network needs for a generic tensor: ``min(M^t, M^(d-t))`` for TT and
        HT (matricization ranks), ``ceil(M^d / (d (M - 1) + 1))`` for CP (parameter count).

    Examples
    --------
    >>> from tensorexpr import construction_ranks
    >>> row = construction_ranks("ht", 3, 4)
    >>> row.ranks == row.product_lower
    True
    """

    kind: str
    xi: str
    M: int
    d: int
    ranks: tuple[int, ...]
    one_entry_per_term: int
    product_lower: tuple[int, ...]


def _cp_ranks(net, M: int, d: int, tree):
    return (net.rank,), (-(-(M**d) // (d * (M - 1) + 1)),)


def _tt_ranks(net, M: int, d: int, tree):
    return tuple(net.ranks[1:-1]), tuple(min(M**t, M ** (d - t)) for t in range(1, d))


def _ht_ranks(net, M: int, d: int, tree):
    nodes = [n for n in range(tree.n_nodes) if n != tree.root]
    ranks = tuple(net.ranks[n] for n in nodes)
    return ranks, tuple(min(M ** len(tree.modes(n)), M ** (d - len(tree.modes(n)))) for n in nodes)


#: ``(ranks, product_lower)`` of :class:`ConstructionRanks` for each kind:
#: ``ranks(net, M, d, tree)``.
RANKS = {"cp": _cp_ranks, "tt": _tt_ranks, "ht": _ht_ranks}


def construction_ranks(
    kind: str, M: int, d: int, xi: str = "relu_max", tree: DimensionTree | None = None
) -> ConstructionRanks:
    """The ranks :func:`construct_generalized` uses on a generic (M,) * d tensor.

    Computed by constructing on a random tensor (so they are the ranks actually used),
    for M^d up to 4096 entries.

    Parameters
    ----------
    kind : {"cp", "tt", "ht"}
    M, d : int
    xi : {"relu_max", "product", "relu_sum"}, default "relu_max"
    tree : DimensionTree, optional

    Returns
    -------
    ConstructionRanks

    Examples
    --------
    >>> from tensorexpr import construction_ranks
    >>> construction_ranks("cp", 3, 4).ranks
    (28,)
    >>> construction_ranks("tt", 3, 4).ranks
    (3, 9, 3)
    """
    kind = _check_choice(kind, "kind", KINDS)
    for name, value in (("M", M), ("d", d)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 2:
            raise ValueError(f"{name} must be an int >= 2, got {value!r}")
    if M**d > 4096:
        raise ValueError(f"M^d must be at most 4096 to construct, got {M}^{d} = {M**d}")
    tree = _check_tree(tree, kind, d)
    T = np.random.default_rng(0).standard_normal((M,) * d)
    net = construct_generalized(T, kind, xi, tree=tree)
    ranks, lower = RANKS[kind](net, M, d, tree)
    return ConstructionRanks(kind, xi, M, d, ranks, M**d, lower)
