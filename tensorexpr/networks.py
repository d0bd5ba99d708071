"""Score functions as shallow (CP), recurrent (TT) and deep (HT) tensor networks.

Each network maps inputs ``X`` of shape (batch, d, n) to scores of shape (batch,)
(or (batch, C) for C outputs), standard (xi = product) or generalized with an
operator xi (docs/theory.md sections 1 and 3). Parameters are stored as float64 numpy
arrays and cast to the input's backend and dtype at call time, so a network built
under one backend works under any other.

Grid tensors (docs/theory.md section 2): for product networks the grid tensor is the
CP / TT / HT tensor with the feature matrix F folded into the leaves
(``structured=True`` returns it without any dense ``M^d`` work); for generalized
networks it is computed by the recursions of docs/theory.md section 3, in blocks of
rows so that the work arrays stay within ``memory_limit``.
"""

from __future__ import annotations

import numpy as np
import tensorly as tl
from tensorly.cp_tensor import CPTensor
from tensorly.tt_tensor import TTTensor

from ._backend import tensor_like
from .features import FeatureMap, check_feature_map
from .grid import DEFAULT_MEMORY_LIMIT, check_memory, feature_matrix, row_blocks
from .ht_tensor import HTTensor
from .operators import Operator, get_operator
from .trees import DimensionTree, check_tree
from .validation import (
    as_float_array,
    check_dense_order,
    check_memory_limit,
    check_positive_int,
    check_random_state,
    check_rank,
    check_size,
    check_tensor,
)

__all__ = ["TensorNetwork", "CPNetwork", "TTNetwork", "HTNetwork"]


def _params(arrays, name: str, ndim: int) -> list[np.ndarray]:
    if isinstance(arrays, (str, bytes)) or not hasattr(arrays, "__len__"):
        raise TypeError(f"{name} must be a list of arrays, got {type(arrays).__name__}")
    out = [
        as_float_array(a, f"{name}[{k}]", ndim=ndim).astype(np.float64)
        for k, a in enumerate(arrays)
    ]
    if not out:
        raise ValueError(f"{name} must not be empty")
    return out


def _rank_list(rank, d: int, n_outputs: int) -> list[int]:
    """Ranks r_0..r_d of a train: an int (inner ranks), d-1 inner ranks, or all d+1."""
    ranks = check_rank(rank, (d - 1, d + 1), f"{d - 1} or {d + 1} ints")
    if isinstance(ranks, int):
        return [1, *[ranks] * (d - 1), n_outputs]
    if len(ranks) == d - 1:
        return [1, *ranks, n_outputs]
    if ranks[0] != 1 or ranks[-1] != n_outputs:
        raise ValueError(
            f"rank as a list of d+1 ints must start with 1 and end with n_outputs="
            f"{n_outputs}, got {ranks}"
        )
    return ranks


def _node_ranks(rank, tree: DimensionTree, n_outputs: int) -> list[int]:
    """Ranks of the tree nodes in post-order (root last: n_outputs): an int (every non-root
    node), one int per non-root node, or one per node."""
    n = tree.n_nodes
    ranks = check_rank(rank, (n - 1, n), f"{n - 1} or {n} ints (tree nodes in post-order)")
    if isinstance(ranks, int):
        return [ranks] * (n - 1) + [n_outputs]
    if len(ranks) == n - 1:
        return [*ranks, n_outputs]
    if ranks[-1] != n_outputs:
        raise ValueError(
            f"rank as a list of {n} ints (one per tree node) must end with the root's "
            f"n_outputs={n_outputs}, got {ranks}"
        )
    return ranks


class TensorNetwork:
    """Base class of the CP, TT and HT networks: inputs, evaluation and grid tensors.

    Use it to recognise a network (``isinstance(obj, TensorNetwork)``); build one with
    :class:`CPNetwork`, :class:`TTNetwork` or :class:`HTNetwork`. A subclass sets ``kind`` and
    implements the score recursion and the grid tensors.

    Parameters
    ----------
    feature_map : FeatureMap
        The shared representation f: R^n -> R^m.
    xi : str or Operator
        The operator (any registered name).
    d : int
        Number of positions.
    n_outputs : int
        Number of scores.

    Examples
    --------
    >>> import tensorexpr as te
    >>> net = te.CPNetwork.random(3, te.TrigFeatures(), rank=2, random_state=0)
    >>> isinstance(net, te.TensorNetwork), net.kind, net.d
    (True, 'cp', 3)
    """

    kind = ""

    def __init__(self, feature_map: FeatureMap, xi, d: int, n_outputs: int):
        self.feature_map = check_feature_map(feature_map)
        self.xi = get_operator(xi)
        self.d = d
        self.n_outputs = n_outputs

    # -- description -------------------------------------------------------------------
    @property
    def n_inputs(self) -> int:
        """Size n of one position."""
        return self.feature_map.n_inputs

    @property
    def n_features(self) -> int:
        """Size m of the feature map's output."""
        return self.feature_map.n_features

    @property
    def n_params(self) -> int:
        """Number of network parameters (the feature map's own are not counted)."""
        return int(sum(p.size for p in self._arrays()))

    def _arrays(self) -> list[np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(d={self.d}, m={self.n_features}, ranks={self.ranks}, "
            f"xi={self.xi.name!r}, n_outputs={self.n_outputs})"
        )

    # -- evaluation --------------------------------------------------------------------
    def _check_input(self, X):
        X = check_tensor(X, "X")
        shape = tuple(tl.shape(X))
        if len(shape) != 3 or shape[1:] != (self.d, self.n_inputs):
            raise ValueError(
                f"X must have shape (batch, d={self.d}, n={self.n_inputs}), got {shape}"
            )
        return X

    def features(self, X):
        """``f(x_k)`` for every position: (batch, d, m)."""
        X = self._check_input(X)
        batch = tl.shape(X)[0]
        flat = self.feature_map(tl.reshape(X, (batch * self.d, self.n_inputs)))
        return tl.reshape(flat, (batch, self.d, self.n_features))

    def __call__(self, X):
        """Scores of the inputs.

        Parameters
        ----------
        X : tensor of shape (batch, d, n)

        Returns
        -------
        tensor of shape (batch,), or (batch, n_outputs) when n_outputs > 1
        """
        feats = self.features(X)
        scores = self._scores([feats[:, k, :] for k in range(self.d)])
        return scores[:, 0] if self.n_outputs == 1 else scores

    def _scores(self, leaves):  # pragma: no cover - abstract
        """Scores (rows, n_outputs) from per-position feature rows ``leaves[k]`` (rows, m)."""
        raise NotImplementedError

    # -- grid tensors ------------------------------------------------------------------
    def grid_tensor(
        self, templates, structured: bool = False, memory_limit: int = DEFAULT_MEMORY_LIMIT
    ):
        """Grid tensor ``Gamma[i1..id] = l(x^(i1), ..., x^(id))`` on templates.

        Parameters
        ----------
        templates : array of shape (M, n)
            Template points (1-D for n = 1).
        structured : bool, default False
            Product networks only: return the grid tensor as a CPTensor / TTTensor /
            HTTensor with the feature matrix folded into the leaves (no dense work).
        memory_limit : int
            Bytes allowed for the dense result plus the work arrays; beyond it a
            ValueError is raised before any work.

        Returns
        -------
        tensor of shape (M,) * d (plus (n_outputs,) when n_outputs > 1), or a
        factorized tensor when ``structured``.
        """
        memory_limit = check_memory_limit(memory_limit)
        F = feature_matrix(self.feature_map, templates)
        M = tl.shape(F)[0]
        if structured or self.xi.is_product:
            if not self.xi.is_product:
                raise ValueError(
                    f"structured=True needs xi='product'; the grid tensor of a xi="
                    f"{self.xi.name!r} network is dense (use structured=False)"
                )
            factorized = self._structured_grid(F)
            if structured:
                return factorized
            check_dense_order(len(self._grid_shape(M)), f"d={self.d}", "the dense grid tensor")
            check_memory(
                M**self.d * self.n_outputs * 8,
                memory_limit,
                f"a grid tensor of {M}^{self.d} entries",
            )
            return self._dense(factorized, memory_limit)
        check_dense_order(len(self._grid_shape(M)), f"d={self.d}", "the grid tensor")
        check_memory(
            M**self.d * self.n_outputs * 8, memory_limit, f"a grid tensor of {M}^{self.d} entries"
        )
        return self._generalized_grid(F, memory_limit)

    def coefficient_tensor(self, memory_limit: int = DEFAULT_MEMORY_LIMIT):
        """The coefficient tensor W of a product network: ``l(X) = <W, Phi(X)>``.

        Parameters
        ----------
        memory_limit : int
            Bytes allowed for W (``m^d`` float64 entries, times ``n_outputs``); a larger W
            raises ValueError, saying how much it needs, before anything is allocated.

        Returns
        -------
        tensor of shape (m,) * d (plus (n_outputs,) when n_outputs > 1), float64
        """
        if not self.xi.is_product:
            raise ValueError(
                f"coefficient_tensor exists for xi='product' only, this network has "
                f"xi={self.xi.name!r}"
            )
        memory_limit = check_memory_limit(memory_limit)
        m = self.n_features
        check_dense_order(len(self._grid_shape(m)), f"d={self.d}", "the coefficient tensor W")
        check_memory(
            m**self.d * self.n_outputs * 8,
            memory_limit,
            f"the coefficient tensor W ({m}^{self.d} entries)",
        )
        return self._dense(self._structured_grid(tl.eye(m, **_f64())), memory_limit)

    def _dense(self, factorized, memory_limit: int):
        """The full tensor of a structured grid; the caller checked its size."""
        if isinstance(factorized, HTTensor):
            return factorized.to_tensor(memory_limit=memory_limit)
        return factorized.to_tensor()

    def _structured_grid(self, F):  # pragma: no cover - abstract
        raise NotImplementedError

    def _generalized_grid(self, F, memory_limit):  # pragma: no cover - abstract
        raise NotImplementedError

    def _grid_shape(self, M: int) -> tuple[int, ...]:
        return (M,) * self.d + ((self.n_outputs,) if self.n_outputs > 1 else ())

    def _t(self, array, like):
        return tensor_like(array, like)


def _f64():
    return {"dtype": tl.backend.float64}


#: Largest work block of a grid recursion; small enough to stay fast in cache-poor loops.
_MAX_BLOCK_BYTES = 2**26


def _block_budget(memory_limit: int, reserved: int) -> int:
    return max(1, min(_MAX_BLOCK_BYTES, memory_limit - reserved))


def _combine_blocks(xi: Operator, left, right, weights, memory_limit: int, reserved: int):
    """``out[(i, j), c] = sum_{a, b} weights[a, b, c] xi(left[i, a], right[j, b])``.

    ``left`` (P, A) and ``right`` (Q, B) have been through ``xi.prepare`` already;
    rows of ``left`` are processed in blocks so that the broadcast (rows, Q, A, B)
    stays within the budget. Returns (P * Q, C).
    """
    P, A = tl.shape(left)
    Q, B = tl.shape(right)
    C = tl.shape(weights)[2]
    w = tl.reshape(weights, (A * B, C))
    r = tl.reshape(right, (1, Q, 1, B))
    blocks = []
    for rows in row_blocks(P, 2 * Q * A * B * 8, _block_budget(memory_limit, reserved)):
        lb = left[rows]
        n = tl.shape(lb)[0]
        pair = xi.combine(tl.reshape(lb, (n, 1, A, 1)), r)  # (n, Q, A, B)
        blocks.append(tl.dot(tl.reshape(pair, (n * Q, A * B)), w))
    return tl.concatenate(blocks, axis=0) if len(blocks) > 1 else blocks[0]


def _diagonal_blocks(xi: Operator, left, right, weights, memory_limit: int, reserved: int):
    """``out[(i, j), c] = sum_a weights[a, c] xi(left[i, a], right[j, a])`` (CP pooling)."""
    P, R = tl.shape(left)
    Q = tl.shape(right)[0]
    r = tl.reshape(right, (1, Q, R))
    blocks = []
    for rows in row_blocks(P, 2 * Q * R * 8, _block_budget(memory_limit, reserved)):
        lb = left[rows]
        n = tl.shape(lb)[0]
        pair = tl.reshape(xi.combine(tl.reshape(lb, (n, 1, R)), r), (n * Q, R))
        blocks.append(pair if weights is None else tl.dot(pair, weights))
    return tl.concatenate(blocks, axis=0) if len(blocks) > 1 else blocks[0]


# ====================================================================================
class CPNetwork(TensorNetwork):
    """Shallow network: one hidden layer of width R and (generalized) product pooling.

    ``l_y(X) = sum_a weights[a, y] xi(<f(x_1), v_{1,a}>, ..., <f(x_d), v_{d,a}>)``
    (docs/theory.md sections 1 and 3; [K19] eq. 14-15, [CS16]).

    Parameters
    ----------
    factors : list of d arrays of shape (m, R)
        Columns ``v_{k,a}``.
    feature_map : FeatureMap
        The shared representation f: R^n -> R^m.
    weights : array of shape (R,) or (R, C), optional
        Output weights lambda; ones when omitted.
    xi : str or Operator, default "product"

    Attributes
    ----------
    d, rank, n_outputs : int
    factors : list of ndarray
    weights : ndarray of shape (R, C)

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> net = te.CPNetwork.random(3, te.TrigFeatures(), rank=2, random_state=0)
    >>> net(np.zeros((4, 3, 1))).shape
    (4,)
    >>> G = net.grid_tensor(np.linspace(0, 1, 5))
    >>> bool(np.allclose(G, te.grid_tensor(net, np.linspace(0, 1, 5), d=3)))
    True
    """

    kind = "cp"

    def __init__(self, factors, feature_map: FeatureMap, weights=None, xi="product"):
        factors = _params(factors, "factors", 2)
        m = check_feature_map(feature_map).n_features
        R = factors[0].shape[1]
        for k, f in enumerate(factors):
            if f.shape != (m, R):
                raise ValueError(
                    f"factors[{k}] must have shape (m={m}, R={R}) like factors[0], got {f.shape}"
                )
        if weights is None:
            weights = np.ones((R, 1))
        weights = as_float_array(weights, "weights", ndim=(1, 2)).astype(np.float64)
        if weights.ndim == 1:
            weights = weights[:, None]
        if weights.shape[0] != R:
            raise ValueError(f"weights must have shape ({R},) or ({R}, C), got {weights.shape}")
        super().__init__(feature_map, xi, len(factors), weights.shape[1])
        self.factors, self.weights, self.rank = factors, weights, R

    @classmethod
    def random(
        cls,
        d: int,
        feature_map: FeatureMap,
        rank: int,
        xi="product",
        n_outputs: int = 1,
        random_state=None,
    ) -> CPNetwork:
        """A network with Gaussian factors ``N(0, 1/m)`` and weights ``N(0, 1/R)``.

        Parameters
        ----------
        d : int
            Number of positions.
        feature_map : FeatureMap
        rank : int
            Width R.
        xi : str or Operator, default "product"
        n_outputs : int, default 1
        random_state : None, int or numpy Generator

        Returns
        -------
        CPNetwork
        """
        d = check_positive_int(d, "d")
        R = check_positive_int(rank, "rank")
        C = check_positive_int(n_outputs, "n_outputs")
        m = check_feature_map(feature_map).n_features
        rng = check_random_state(random_state)
        check_size(
            8 * (d * m * R + R * C), f"rank={R}, d={d}", f"the factors of a CPNetwork (m={m})"
        )
        factors = [rng.standard_normal((m, R)) / np.sqrt(m) for _ in range(d)]
        weights = rng.standard_normal((R, C)) / np.sqrt(R)
        return cls(factors, feature_map, weights=weights, xi=xi)

    @property
    def ranks(self) -> tuple[int, ...]:
        return (self.rank,)

    def _arrays(self):
        return [*self.factors, self.weights]

    def _scores(self, leaves):
        like = leaves[0]
        z = [tl.dot(leaf, self._t(f, like)) for leaf, f in zip(leaves, self.factors, strict=True)]
        return tl.dot(self.xi.reduce(z), self._t(self.weights, like))

    def _structured_grid(self, F):
        factors = [tl.dot(F, self._t(f, F)) for f in self.factors]
        if self.n_outputs == 1:
            return CPTensor((self._t(self.weights[:, 0], F), factors))
        return CPTensor(
            (tl.ones(self.rank, **tl.context(F)), [*factors, self._t(self.weights.T.copy(), F)])
        )

    def _generalized_grid(self, F, memory_limit):
        # docs/theory.md section 3: Gamma = sum_a lambda_a (F v_1a) (x)_xi ... (x)_xi (F v_da)
        z = [tl.dot(F, self._t(f, F)) for f in self.factors]
        M = tl.shape(F)[0]
        weights = self._t(self.weights, F)
        if self.d == 1:
            return tl.reshape(tl.dot(z[0], weights), self._grid_shape(M))
        state = z[0]
        for k in range(1, self.d):
            last = k == self.d - 1
            reserved = (M**self.d * self.n_outputs + 2 * M**k * self.rank) * 8
            state = _diagonal_blocks(
                self.xi,
                self.xi.prepare(state),
                self.xi.prepare(z[k]),
                weights if last else None,
                memory_limit,
                reserved,
            )
        return tl.reshape(state, self._grid_shape(M))


# ====================================================================================
class TTNetwork(TensorNetwork):
    """Recurrent network: TT cores, standard or the generalized RNN of [K19].

    With ``a_t = C_t f(x_t)`` (``C_t = I`` when ``matrices`` is None) and ``h_0`` the
    unit of xi::

        h_t[k] = sum_{i, j} cores[t][j, i, k] * xi(a_t[i], h_{t-1}[j]),   l(X) = h_d

    For xi = product this is the TT-network ``W = G_1 G_2 ... G_d`` (docs/theory.md
    section 1); the cores are stored as ``(r_{t-1}, L, r_t)`` like tensorly's TT
    cores, i.e. ``cores[t][j, i, k] = G_t[i, j, k]`` of [K19] eq. 16-17. For xi with
    no unit (softplus, max) the first step is ``h_1 = cores[0][0]^T a_1``.

    Parameters
    ----------
    cores : list of d arrays of shape (r_{t-1}, L, r_t)
        ``r_0 = 1``; ``r_d`` is the number of outputs.
    feature_map : FeatureMap
    xi : str or Operator, default "product"
    matrices : list of d arrays of shape (L, m), optional
        The matrices C_t of the generalized RNN; identity (L = m) when omitted.

    Attributes
    ----------
    d, n_outputs : int
    ranks : tuple of d+1 ints
    cores, matrices : list of ndarray (matrices may be None)

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> net = te.TTNetwork.random(4, te.TrigFeatures(), rank=2, random_state=0)
    >>> net.ranks
    (1, 2, 2, 2, 1)
    >>> tt = net.grid_tensor(np.linspace(0, 1, 3), structured=True)
    >>> bool(np.allclose(tt.to_tensor(), net.grid_tensor(np.linspace(0, 1, 3))))
    True
    """

    kind = "tt"

    def __init__(self, cores, feature_map: FeatureMap, xi="product", matrices=None):
        cores = _params(cores, "cores", 3)
        m = check_feature_map(feature_map).n_features
        d = len(cores)
        if matrices is None:
            mats = None
            widths = [m] * d
        else:
            mats = _params(matrices, "matrices", 2)
            if len(mats) != d:
                raise ValueError(f"matrices must hold d={d} arrays like cores, got {len(mats)}")
            for t, c in enumerate(mats):
                if c.shape[1] != m:
                    raise ValueError(f"matrices[{t}] must have shape (L, m={m}), got {c.shape}")
            widths = [c.shape[0] for c in mats]
        if cores[0].shape[0] != 1:
            raise ValueError(f"cores[0] must have shape (1, L, r_1), got {cores[0].shape}")
        for t, core in enumerate(cores):
            if core.shape[1] != widths[t]:
                what = "m" if mats is None else f"L of matrices[{t}]"
                raise ValueError(
                    f"cores[{t}] must have shape (r, {widths[t]}, r') ({what}), got {core.shape}"
                )
            if t and core.shape[0] != cores[t - 1].shape[2]:
                raise ValueError(
                    f"cores[{t}] has left rank {core.shape[0]}, cores[{t - 1}] has right rank "
                    f"{cores[t - 1].shape[2]}"
                )
        super().__init__(feature_map, xi, d, cores[-1].shape[2])
        self.cores, self.matrices = cores, mats

    @classmethod
    def random(
        cls,
        d: int,
        feature_map: FeatureMap,
        rank,
        xi="product",
        n_outputs: int = 1,
        hidden_size: int | None = None,
        random_state=None,
    ) -> TTNetwork:
        """A network with Gaussian cores ``N(0, 1/(r_{t-1} L))``.

        Parameters
        ----------
        d : int
            Number of positions.
        feature_map : FeatureMap
        rank : int or list of ints
            Inner ranks r_1..r_{d-1}: one int, d-1 ints, or all d+1 ranks.
        xi : str or Operator, default "product"
        n_outputs : int, default 1
        hidden_size : int, optional
            L: when given, random matrices C_t of shape (L, m) ``N(0, 1/m)`` are drawn
            (the generalized RNN of [K19]); otherwise C_t = I.
        random_state : None, int or numpy Generator

        Returns
        -------
        TTNetwork
        """
        d = check_positive_int(d, "d")
        C = check_positive_int(n_outputs, "n_outputs")
        check_size(24 * d, f"d={d}", "the list of ranks of a TTNetwork")
        ranks = _rank_list(rank, d, C)
        m = check_feature_map(feature_map).n_features
        rng = check_random_state(random_state)
        matrices = None
        L = m
        if hidden_size is not None:
            L = check_positive_int(hidden_size, "hidden_size")
            check_size(8 * d * L * m, f"hidden_size={L}", f"the matrices of a TTNetwork (d={d})")
        core_bytes = 8 * L * sum(ranks[t] * ranks[t + 1] for t in range(d))
        check_size(core_bytes, f"rank={rank}, d={d}", f"the cores of a TTNetwork (L={L})")
        if hidden_size is not None:
            matrices = [rng.standard_normal((L, m)) / np.sqrt(m) for _ in range(d)]
        cores = [
            rng.standard_normal((ranks[t], L, ranks[t + 1])) / np.sqrt(ranks[t] * L)
            for t in range(d)
        ]
        return cls(cores, feature_map, xi=xi, matrices=matrices)

    @property
    def ranks(self) -> tuple[int, ...]:
        return tuple([1] + [c.shape[2] for c in self.cores])

    def _arrays(self):
        return [*self.cores, *(self.matrices or [])]

    def folded(self) -> TTNetwork:
        """For xi = product: the same network with every C_t folded into its core."""
        if not self.xi.is_product:
            raise ValueError(
                f"C_t fold into the cores only for xi='product', not xi={self.xi.name!r}"
            )
        if self.matrices is None:
            return TTNetwork(self.cores, self.feature_map)
        cores = [
            np.einsum("jik,im->jmk", g, c) for g, c in zip(self.cores, self.matrices, strict=True)
        ]
        return TTNetwork(cores, self.feature_map)

    def _inputs(self, leaves):
        if self.matrices is None:
            return leaves
        return [
            tl.dot(leaf, tl.transpose(self._t(c, leaf)))
            for leaf, c in zip(leaves, self.matrices, strict=True)
        ]

    def _scores(self, leaves):
        a = self._inputs(leaves)
        h = tl.dot(self.xi.start(a[0]), self._t(self.cores[0][0], a[0]))
        for t in range(1, self.d):
            core = self.cores[t]
            r_prev, L, r_next = core.shape
            n = tl.shape(h)[0]
            pair = self.xi(tl.reshape(a[t], (n, L, 1)), tl.reshape(h, (n, 1, r_prev)))
            w = self._t(np.transpose(core, (1, 0, 2)).reshape(L * r_prev, r_next), h)
            h = tl.dot(tl.reshape(pair, (n, L * r_prev)), w)
        return h

    def _structured_grid(self, F):
        a = self._inputs([F] * self.d)  # F C_t^T, (M, L)
        cores = [
            tl.einsum("jik,mi->jmk", self._t(g, F), at) for g, at in zip(self.cores, a, strict=True)
        ]
        if self.n_outputs > 1:  # the outputs as a last mode: an identity core (C, C, 1)
            C = self.n_outputs
            cores.append(tl.reshape(tl.eye(C, **tl.context(F)), (C, C, 1)))
        return TTTensor(cores)

    def _dense(self, factorized, memory_limit: int):
        # Contract the left and the right half of the train separately, then one wide
        # product (M^h, r) x (r, M^(d-h)) writes the result once: 2-3x faster than
        # tensorly's left-to-right tt_to_tensor on grid tensors (benchmarks/bench_grid.py).
        cores = list(factorized.factors)
        if len(cores) < 2:
            return factorized.to_tensor()
        h = len(cores) // 2
        left = tl.reshape(cores[0], (-1, tl.shape(cores[0])[2]))
        for core in cores[1:h]:
            r_prev, n, r_next = tl.shape(core)
            left = tl.reshape(tl.dot(left, tl.reshape(core, (r_prev, n * r_next))), (-1, r_next))
        right = tl.reshape(cores[-1], (tl.shape(cores[-1])[0], -1))
        for core in reversed(cores[h:-1]):
            r_prev, n, r_next = tl.shape(core)
            right = tl.reshape(tl.dot(tl.reshape(core, (r_prev * n, r_next)), right), (r_prev, -1))
        shape = tuple(tl.shape(core)[1] for core in cores)
        return tl.reshape(tl.dot(left, right), shape)

    def _generalized_grid(self, F, memory_limit):
        # docs/theory.md section 3, grid recursion of the generalized RNN:
        # Gamma_t[i1..it, k] = sum_{l,j} G_t[l,j,k] xi((F C_t^T)[i_t, l], Gamma_{t-1}[.., j])
        a = self._inputs([F] * self.d)
        M = tl.shape(F)[0]
        state = tl.dot(self.xi.start(a[0]), self._t(self.cores[0][0], F))
        for t in range(1, self.d):
            reserved = (M**self.d * self.n_outputs + 2 * M**t * max(self.ranks)) * 8
            # cores[t][j, i, k] pairs previous rows (index j) with the new mode (index i)
            state = _combine_blocks(
                self.xi,
                self.xi.prepare(state),
                self.xi.prepare(a[t]),
                self._t(self.cores[t], F),
                memory_limit,
                reserved,
            )
        return tl.reshape(state, self._grid_shape(M))


# ====================================================================================
class HTNetwork(TensorNetwork):
    """Deep network (convolutional arithmetic circuit): hierarchical Tucker over a tree.

    Leaves ``phi_k = A_k^T f(x_k)``; an internal node with children (l, r) and
    transfer tensor B computes ``phi[c] = sum_{a, b} B[a, b, c] xi(phi_l[a], phi_r[b])``;
    the root gives the n_outputs scores. With the balanced tree this is log2(d)
    layers of 1x1 convolutions and size-2 pooling ([CS16]); general transfer
    tensors contain the diagonal (CP-pooled) form of [CS16] **(our choice)**.

    Parameters
    ----------
    factors : list of arrays, in the tree's post-order
        Leaf of mode k: ``A_k`` of shape (m, r_k); internal node: ``B`` of shape
        (r_left, r_right, r); the root's r is the number of outputs.
    feature_map : FeatureMap
    tree : DimensionTree, optional
        ``DimensionTree.balanced(d)`` when omitted (d is inferred from the factors).
    xi : str or Operator, default "product"

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> net = te.HTNetwork.random(4, te.TrigFeatures(), rank=2, random_state=0)
    >>> ht = net.grid_tensor(np.linspace(0, 1, 3), structured=True)
    >>> ht.ranks
    (2, 2, 2, 2, 2, 2, 1)
    """

    kind = "ht"

    def __init__(
        self, factors, feature_map: FeatureMap, tree: DimensionTree | None = None, xi="product"
    ):
        if isinstance(factors, (str, bytes)) or not hasattr(factors, "__len__"):
            raise TypeError(f"factors must be a list of arrays, got {type(factors).__name__}")
        factors = list(factors)
        if tree is None:
            if len(factors) % 2 == 0:
                raise ValueError(
                    f"factors must hold 2d-1 arrays (one per tree node), got {len(factors)}"
                )
            tree = DimensionTree.balanced((len(factors) + 1) // 2)
        if not isinstance(tree, DimensionTree):
            raise TypeError(f"tree must be a DimensionTree, got {type(tree).__name__}")
        if len(factors) != tree.n_nodes:
            raise ValueError(
                f"factors must hold one array per tree node ({tree.n_nodes} for d={tree.d}), "
                f"got {len(factors)}"
            )
        m = check_feature_map(feature_map).n_features
        arrays = []
        for node, f in enumerate(factors):
            ndim = 2 if tree.is_leaf(node) else 3
            arr = as_float_array(f, f"factors[{node}]", ndim=ndim).astype(np.float64)
            if ndim == 2 and arr.shape[0] != m:
                raise ValueError(
                    f"factors[{node}] (leaf of mode {tree.modes(node)[0]}) must have shape "
                    f"(m={m}, r), got {arr.shape}"
                )
            arrays.append(arr)
            children = tree.children(node)
            if children is not None:
                expected = tuple(arrays[c].shape[-1] for c in children)
                if arr.shape[:2] != expected:
                    raise ValueError(
                        f"factors[{node}] has shape {arr.shape}, its children have ranks {expected}"
                    )
        self.tree = tree
        super().__init__(feature_map, xi, tree.d, arrays[tree.root].shape[-1])
        self.factors = arrays

    @classmethod
    def random(
        cls,
        d: int,
        feature_map: FeatureMap,
        rank: int,
        xi="product",
        n_outputs: int = 1,
        tree: DimensionTree | None = None,
        random_state=None,
    ) -> HTNetwork:
        """A network with Gaussian leaves ``N(0, 1/m)`` and transfers ``N(0, 1/(r_l r_r))``.

        Parameters
        ----------
        d : int
            Number of positions.
        feature_map : FeatureMap
        rank : int or list of ints
            Rank of every non-root node: one int, one per non-root node, or one per node
            (tree nodes in post-order, as :attr:`ranks`; the root's entry is ``n_outputs``).
        xi : str or Operator, default "product"
        n_outputs : int, default 1
        tree : DimensionTree, optional
            ``DimensionTree.balanced(d)`` by default.
        random_state : None, int or numpy Generator

        Returns
        -------
        HTNetwork
        """
        d = check_positive_int(d, "d")
        C = check_positive_int(n_outputs, "n_outputs")
        tree = check_tree(tree, d)
        r = _node_ranks(rank, tree, C)
        m = check_feature_map(feature_map).n_features
        rng = check_random_state(random_state)
        shapes = [
            (m, r[node]) if tree.is_leaf(node) else (*(r[c] for c in tree.children(node)), r[node])
            for node in range(tree.n_nodes)
        ]
        check_size(
            8 * sum(int(np.prod(shape, dtype=object)) for shape in shapes),
            f"rank={rank}, d={d}",
            f"the factors of an HTNetwork (m={m})",
        )
        factors = [
            rng.standard_normal(shape) / np.sqrt(np.prod(shape[:-1], dtype=float))
            for shape in shapes
        ]
        return cls(factors, feature_map, tree=tree, xi=xi)

    @property
    def ranks(self) -> tuple[int, ...]:
        """Rank of every tree node, in post-order (root last: n_outputs)."""
        return tuple(f.shape[-1] for f in self.factors)

    def _arrays(self):
        return self.factors

    def _scores(self, leaves):
        phi = [None] * self.tree.n_nodes
        for k, leaf in enumerate(leaves):
            node = self.tree.leaf(k)
            phi[node] = tl.dot(leaf, self._t(self.factors[node], leaf))
        for node in self.tree.internal_nodes:
            left, right = self.tree.children(node)
            pl, pr = phi[left], phi[right]
            n, ra = tl.shape(pl)
            rb = tl.shape(pr)[1]
            pair = self.xi(tl.reshape(pl, (n, ra, 1)), tl.reshape(pr, (n, 1, rb)))
            w = self._t(self.factors[node].reshape(ra * rb, -1), pl)
            phi[node] = tl.dot(tl.reshape(pair, (n, ra * rb)), w)
        return phi[self.tree.root]

    def _structured_grid(self, F):
        factors = [
            tl.dot(F, self._t(f, F)) if self.tree.is_leaf(node) else self._t(f, F)
            for node, f in enumerate(self.factors)
        ]
        return HTTensor(factors, self.tree)

    def _generalized_grid(self, F, memory_limit):
        # docs/theory.md section 3 (generalized HT):
        # U_t[(i_l, i_r), c] = sum_ab B[a,b,c] xi(U_l[i_l,a], U_r[i_r,b])
        tree, M = self.tree, tl.shape(F)[0]
        reserved = (M**self.d * self.n_outputs + M ** (self.d - 1) * max(self.ranks)) * 8
        U = [None] * tree.n_nodes
        for node in range(tree.n_nodes):
            children = tree.children(node)
            if children is None:
                U[node] = tl.dot(F, self._t(self.factors[node], F))
                continue
            left, right = children
            U[node] = _combine_blocks(
                self.xi,
                self.xi.prepare(U[left]),
                self.xi.prepare(U[right]),
                self._t(self.factors[node], F),
                memory_limit,
                reserved,
            )
            U[left] = U[right] = None
        order = tree.mode_order
        full = tl.reshape(U[tree.root], (M,) * self.d + (self.n_outputs,))
        inverse = tuple(int(i) for i in np.argsort(order)) + (self.d,)
        if inverse != tuple(range(self.d + 1)):
            full = tl.transpose(full, inverse)
        return tl.reshape(full, self._grid_shape(M))
