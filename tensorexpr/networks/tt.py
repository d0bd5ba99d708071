"""The recurrent network (TT, the generalized RNN of [K19]) and its parameter layout."""

from __future__ import annotations

import numpy as np
import tensorly as tl
from tensorly.tt_tensor import TTTensor

from ..features import FeatureMap, LinearFeatures, check_feature_map
from ..validation import check_positive_int, check_random_state, check_rank, check_size
from ._base import Layout, TensorNetwork, check_params, combine_blocks

__all__ = ["TTNetwork", "TTLayout"]


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
        cores = check_params(cores, "cores", 3)
        m = check_feature_map(feature_map).n_features
        d = len(cores)
        if matrices is None:
            mats = None
            widths = [m] * d
        else:
            mats = check_params(matrices, "matrices", 2)
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
            state = combine_blocks(
                self.xi,
                self.xi.prepare(state),
                self.xi.prepare(a[t]),
                self._t(self.cores[t], F),
                memory_limit,
                reserved,
            )
        return tl.reshape(state, self._grid_shape(M))


class TTLayout(Layout):
    """Engine parameters ``core_first`` (1, L, r) (``(1, L, C)`` for d = 1), ``cores_middle``
    (d - 2, r, L, r) (``core_middle`` (r, L, r) with ``shared_cores``: one core for positions 2
    to d - 1), ``core_last`` (r, L, C) and, with a hidden size, ``matrices`` (d, L, m): the
    ``C_t`` of the generalized RNN (``L = m`` and no matrices otherwise). Files: ``cores.t``,
    ``matrices.t``."""

    kind = "tt"
    network = TTNetwork
    options = ("hidden_size", "shared_cores")
    inputs = ("matrices",)

    def shapes(self, spec):
        d, m, r, C, L = spec.d, spec.m, spec.rank, spec.n_outputs, spec.width
        if d == 1:
            shapes = {"core_first": (1, L, C)}
        else:
            shapes = {"core_first": (1, L, r)}
            # a shared core exists from d = 3 on; unshared, d = 2 has an empty stack of them
            if not spec.shared_cores:
                shapes["cores_middle"] = (d - 2, r, L, r)
            elif d > 2:
                shapes["core_middle"] = (r, L, r)
            shapes["core_last"] = (r, L, C)
        if spec.hidden_size is not None:
            shapes["matrices"] = (d, L, m)
        return shapes

    def output_name(self, spec):
        return "core_last" if spec.d > 1 else "core_first"

    def rank_axes(self, spec):
        axes = {
            "core_first": (2,) if spec.d > 1 else (),
            "cores_middle": (1, 3),
            "core_middle": (0, 2),
            "core_last": (0,),
            "matrices": None,
        }
        return {k: axes[k] for k in self.shapes(spec)}

    def feature_axes(self, spec):
        # with matrices C_t the cores read C_t f(x_t), not f(x_t): only the matrices read f
        if spec.hidden_size is not None:
            return {k: 2 if k == "matrices" else None for k in self.shapes(spec)}
        axes = {"core_first": 1, "cores_middle": 2, "core_middle": 1, "core_last": 1}
        return {k: axes[k] for k in self.shapes(spec)}

    def init(self, spec, rng, constant_index):
        """Every middle core a near-identity step (docs/theory.md section 7).

        The slice of each middle core that meets the constant feature of f(x) is the identity
        and all other entries are ``N(0, s^2)`` with ``s = 1 / (2 sqrt(r m))`` (times
        ``4 / sqrt(d)`` for d > 16, so that the product of d steps stays in scale).
        """
        d, m, r, C, L = spec.d, spec.m, spec.rank, spec.n_outputs, spec.width
        if spec.hidden_size is not None:  # C_t f(x_t) mixes the features: no constant input
            constant_index = None

        def on_constant(shape):
            # N(0, s^2) plus 1 where the constant feature meets the diagonal of (r, ., r); each
            # step multiplies the state norm by about sqrt(1 + s^2 r m), so s shrinks like
            # 1 / sqrt(d) beyond 16 positions to keep the initial scores in scale
            s = 1.0 / (2.0 * np.sqrt(r * m)) * min(1.0, 4.0 / np.sqrt(d))
            out = s * rng.standard_normal(shape)
            diag = np.eye(shape[0], shape[2])
            if constant_index is None:  # no constant feature: spread the identity over f(x)
                return out + np.expand_dims(diag, 1) / shape[1]
            out[:, constant_index, :] += diag
            return out

        params = {}
        if d == 1:
            params["core_first"] = rng.standard_normal((1, L, C)) / np.sqrt(L)
        else:
            params["core_first"] = rng.standard_normal((1, L, r)) / np.sqrt(L)
            if spec.shared_cores:
                if d > 2:
                    params["core_middle"] = on_constant((r, L, r))
            else:
                middle = [on_constant((r, L, r)) for _ in range(d - 2)]
                params["cores_middle"] = np.array(middle).reshape(d - 2, r, L, r)
            params["core_last"] = rng.standard_normal((r, L, C)) / np.sqrt(r * L)
        if spec.hidden_size is not None:
            params["matrices"] = rng.standard_normal((d, L, m)) / np.sqrt(m)
        return params

    def middle_cores(self, spec, params) -> np.ndarray:
        """The (d - 2, r, L, r) middle cores, the shared core repeated (copies)."""
        if not spec.shared_cores:
            return params["cores_middle"]
        if spec.d <= 2:
            return np.zeros((0, spec.rank, spec.width, spec.rank))
        return np.repeat(params["core_middle"][None], spec.d - 2, axis=0)

    def to_network(self, spec, params, feature_map, xi):
        cores = [params["core_first"]]
        if spec.d > 1:
            cores += list(self.middle_cores(spec, params)) + [params["core_last"]]
        matrices = list(params["matrices"]) if "matrices" in params else None
        return TTNetwork(cores, feature_map, xi=xi, matrices=matrices)

    def params_of(self, network):
        """Unshared cores (``cores_middle``), and ``matrices`` when the network has them."""
        cores = network.cores
        if len(set(network.ranks[1:-1])) > 1:
            raise ValueError(
                f"the engine stacks the cores: a TTNetwork needs equal inner ranks, got "
                f"ranks={network.ranks}"
            )
        params = {"core_first": cores[0]}
        if network.d > 1:
            _, L, r = cores[0].shape
            middle = np.stack(cores[1:-1]) if network.d > 2 else np.zeros((0, r, L, r))
            params.update({"cores_middle": middle, "core_last": cores[-1]})
        if network.matrices is not None:
            params["matrices"] = np.stack(network.matrices)
        return params

    def file_arrays(self, network):
        named = {f"cores.{t}": c for t, c in enumerate(network.cores)}
        if network.matrices is not None:
            named.update({f"matrices.{t}": c for t, c in enumerate(network.matrices)})
        return named

    def from_file(self, read, d, tree, feature_map, xi):
        d = d or len(read.listed("cores"))
        matrices = read.series("matrices", d) if read.listed("matrices") else None
        return TTNetwork(read.series("cores", d), feature_map, xi=xi, matrices=matrices)

    def one_hot(self, network, F):
        """The ``C_t`` become ``C_t F^T`` (``F^T`` without matrices): L stays, m becomes M."""
        if network.matrices is None:
            matrices = [F.T] * network.d
        else:
            matrices = [c @ F.T for c in network.matrices]
        identity = LinearFeatures.identity(F.shape[0])
        return TTNetwork(network.cores, identity, xi=network.xi, matrices=matrices)

    def fitted(self, network):
        """For xi = product the ``C_t`` fold into the cores."""
        return network.folded() if network.xi.is_product else network
