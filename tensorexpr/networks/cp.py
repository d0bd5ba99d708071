"""The shallow network (CP) and its parameter layout."""

from __future__ import annotations

import numpy as np
import tensorly as tl
from tensorly.cp_tensor import CPTensor

from ..features import FeatureMap, LinearFeatures, check_feature_map
from ..grid import row_blocks
from ..operators import Operator
from ..validation import as_float_array, check_positive_int, check_random_state, check_size
from ._base import Layout, TensorNetwork, block_budget, check_params

__all__ = ["CPNetwork", "CPLayout"]


def _diagonal_blocks(xi: Operator, left, right, weights, memory_limit: int, reserved: int):
    """``out[(i, j), c] = sum_a weights[a, c] xi(left[i, a], right[j, a])`` (CP pooling)."""
    P, R = tl.shape(left)
    Q = tl.shape(right)[0]
    r = tl.reshape(right, (1, Q, R))
    blocks = []
    for rows in row_blocks(P, 2 * Q * R * 8, block_budget(memory_limit, reserved)):
        lb = left[rows]
        n = tl.shape(lb)[0]
        pair = tl.reshape(xi.combine(tl.reshape(lb, (n, 1, R)), r), (n * Q, R))
        blocks.append(pair if weights is None else tl.dot(pair, weights))
    return tl.concatenate(blocks, axis=0) if len(blocks) > 1 else blocks[0]


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
        factors = check_params(factors, "factors", 2)
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


class CPLayout(Layout):
    """Engine parameters ``factors`` (d, m, R) and ``weights`` (R, C); with ``shared_cores``
    one ``factor`` (m, R) for every position instead of ``factors`` (the shallow
    convolutional circuit, a layer's weights shared across the positions: a symmetric CP
    decomposition). Files ``factors.k``, ``weights``."""

    kind = "cp"
    network = CPNetwork
    options = ("shared_cores",)
    inputs = ("factors", "factor")

    @staticmethod
    def _factors_name(spec) -> str:
        return "factor" if spec.shared_cores else "factors"

    def shapes(self, spec):
        m, r = spec.m, spec.rank
        shape = (m, r) if spec.shared_cores else (spec.d, m, r)
        return {self._factors_name(spec): shape, "weights": (r, spec.n_outputs)}

    def output_name(self, spec):
        return "weights"

    merges_any_xi = True

    def rank_axes(self, spec):
        return {self._factors_name(spec): (1,) if spec.shared_cores else (2,), "weights": (0,)}

    def feature_axes(self, spec):
        return {self._factors_name(spec): 0 if spec.shared_cores else 1, "weights": None}

    def init(self, spec, rng, constant_index):
        """Factors ``N(0, 1/(4m))`` plus 1 on the constant feature; weights ``N(0, 1/R)``."""
        name, shapes = self._factors_name(spec), self.shapes(spec)
        factors = 1.0 / (2.0 * np.sqrt(spec.m)) * rng.standard_normal(shapes[name])
        if constant_index is not None:
            factors[..., constant_index, :] += 1.0
        weights = rng.standard_normal(shapes["weights"]) / np.sqrt(spec.rank)
        return {name: factors, "weights": weights}

    def to_network(self, spec, params, feature_map, xi):
        if spec.shared_cores:  # the shared factor repeated (copies: the network owns them)
            factors = [np.array(params["factor"]) for _ in range(spec.d)]
        else:
            factors = list(params["factors"])
        return CPNetwork(factors, feature_map, weights=params["weights"], xi=xi)

    def params_of(self, network):
        return {"factors": np.stack(network.factors), "weights": network.weights}

    def file_arrays(self, network):
        named = {"weights": network.weights}
        named.update({f"factors.{k}": f for k, f in enumerate(network.factors)})
        return named

    def from_file(self, read, d, tree, feature_map, xi):
        d = d or len(read.listed("factors"))
        factors = read.series("factors", d)
        return CPNetwork(factors, feature_map, weights=read.array("weights"), xi=xi)

    def one_hot(self, network, F):
        factors = [F @ f for f in network.factors]
        identity = LinearFeatures.identity(F.shape[0])
        return CPNetwork(factors, identity, weights=network.weights, xi=network.xi)
