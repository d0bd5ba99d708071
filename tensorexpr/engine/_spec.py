"""What a network of the engine is: its shapes (:class:`NetworkSpec`) and its parameters.

The parameters are a dict of float64 numpy arrays (stacked where the positions share a
shape, so that a long train is one tensor for ``tf.scan``):

- ``"cp"``: ``factors`` (d, m, R) and ``weights`` (R, C);
- ``"tt"``: ``core_first`` (1, L, r) (``(1, L, C)`` for d = 1), ``cores_middle`` (d - 2, r, L, r),
  ``core_last`` (r, L, C), and, with a hidden size, ``matrices`` (d, L, m): the ``C_t`` of the
  generalized RNN (``L = m`` and no matrices otherwise);
- ``"ht"``: ``leaves`` (d, m, r), the leaf of mode k at ``leaves[k]``, and one transfer tensor
  per internal node of the tree, named by the modes below it (``"node_0_1"`` ...), so that
  nothing depends on how a tree numbers its nodes.

:func:`to_network` turns a spec and its parameters into the equal tensorexpr network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..features import FeatureMap
from ..networks import CPNetwork, HTNetwork, TensorNetwork, TTNetwork
from ..operators import get_operator
from ..trees import DimensionTree
from ..validation import check_size

__all__ = [
    "NetworkSpec",
    "param_names",
    "middle_cores",
    "node_name",
    "init_params",
    "to_network",
    "KINDS",
]

#: The network kinds: shallow (CP), recurrent (TT), deep (HT).
KINDS = ("cp", "tt", "ht")


@dataclass(frozen=True)
class NetworkSpec:
    """Shapes and operator of a network: everything but the parameter values.

    Parameters
    ----------
    kind : {"cp", "tt", "ht"}
    xi : str
        A registered operator name.
    d : int
        Number of positions.
    m : int
        Size of f(x).
    rank : int
        Width R (cp), every inner TT rank, every non-root HT rank.
    n_outputs : int
        Number of scores C.
    tree : nested tuples, optional
        HT only: the dimension tree's structure (``DimensionTree.structure``).
    hidden_size : int, optional
        TT only: L, the size of ``C_t f(x_t)``; no matrices ``C_t`` when None.
    shared_cores : bool, default False
        TT only: one middle core for every position from 2 to d - 1 (parameter
        ``core_middle`` (r, L, r) instead of ``cores_middle``): the recurrent network with the
        same weights at every step (docs/theory.md section 7).
    """

    kind: str
    xi: str
    d: int
    m: int
    rank: int
    n_outputs: int = 1
    tree: object = None
    hidden_size: int | None = None
    shared_cores: bool = False

    @property
    def width(self) -> int:
        """L: the size of the input to a TT core (m without matrices)."""
        return self.m if self.hidden_size is None else self.hidden_size

    def dimension_tree(self) -> DimensionTree:
        return DimensionTree(self.tree)


def node_name(tree: DimensionTree, node: int) -> str:
    """Parameter name of an internal HT node: the modes below it, ``"node_0_1"``."""
    return "node_" + "_".join(str(k) for k in tree.modes(node))


def param_names(spec: NetworkSpec) -> list[str]:
    """The parameter names of a spec, in a fixed order."""
    if spec.kind == "cp":
        return ["factors", "weights"]
    if spec.kind == "tt":
        # a shared core exists from d = 3 on; unshared, d = 2 has an empty stack of them
        if spec.shared_cores:
            middle = ["core_middle"] if spec.d > 2 else []
        else:
            middle = ["cores_middle"]
        names = ["core_first"] + (middle + ["core_last"] if spec.d > 1 else [])
        return names + (["matrices"] if spec.hidden_size is not None else [])
    tree = spec.dimension_tree()
    return ["leaves"] + [node_name(tree, node) for node in tree.internal_nodes]


def _n_params(spec: NetworkSpec) -> int:
    """Parameters of a spec, counted without allocating (Python ints: no overflow)."""
    d, m, r, C = spec.d, spec.m, spec.rank, spec.n_outputs
    if spec.kind == "tt":
        L = spec.width
        middle = (1 if spec.shared_cores else max(d - 2, 0)) * r * L * r
        matrices = d * L * m if spec.hidden_size is not None else 0
        return L * r + middle + r * L * C + matrices
    if spec.kind == "cp":
        return d * m * r + r * C
    return d * m * r + max(d - 2, 0) * r**3 + r * r * C


def init_params(
    spec: NetworkSpec, rng: np.random.Generator, constant_index: int | None
) -> dict[str, np.ndarray]:
    """Initial parameters for training: every position starts as a near-identity step.

    The slice of each middle TT core that meets the constant feature of f(x) is the identity and
    all other entries are ``N(0, s^2)`` with ``s = 1 / (2 sqrt(r m))`` (times ``4 / sqrt(d)``
    for d > 16, so that the product of d steps stays in scale): at the start every position
    passes the state on nearly unchanged (docs/theory.md section 7). CP factors and HT leaves
    get 1 on the constant feature, HT internal nodes a diagonal ``B[a, a, a] = 1``.
    """
    d, m, r, C = spec.d, spec.m, spec.rank, spec.n_outputs
    check_size(
        4 * 8 * _n_params(spec),  # parameters, gradients, Adam's two moments
        f"rank={r}, d={d}",
        f"training a {spec.kind.upper()} network (m={m}, n_outputs={C})",
    )
    params: dict[str, np.ndarray] = {}

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

    if spec.kind == "tt":
        L = spec.width
        if spec.hidden_size is not None:  # C_t f(x_t) mixes the features: no constant input
            constant_index = None
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
    s = 1.0 / (2.0 * np.sqrt(m))
    if spec.kind == "cp":
        factors = s * rng.standard_normal((d, m, r))
        if constant_index is not None:
            factors[:, constant_index, :] += 1.0
        params["factors"] = factors
        params["weights"] = rng.standard_normal((r, C)) / np.sqrt(r)
        return params
    if d == 1:
        params["leaves"] = rng.standard_normal((1, m, C)) / np.sqrt(m)
        return params
    leaves = s * rng.standard_normal((d, m, r))
    if constant_index is not None:
        leaves[:, constant_index, :] += 1.0
    params["leaves"] = leaves
    tree = spec.dimension_tree()
    diag = np.zeros((r, r, r))
    diag[np.arange(r), np.arange(r), np.arange(r)] = 1.0
    for node in tree.internal_nodes:
        if node == tree.root:
            params[node_name(tree, node)] = rng.standard_normal((r, r, C)) / r
        else:
            params[node_name(tree, node)] = diag + rng.standard_normal((r, r, r)) / (2.0 * r)
    return params


def middle_cores(spec: NetworkSpec, params: dict):
    """The (d - 2, r, L, r) middle TT cores, the shared core repeated when ``shared_cores``.

    Works on numpy arrays and on TensorFlow tensors (the gradient of a repeated core is the
    sum over its positions).
    """
    if not spec.shared_cores:
        return params["cores_middle"]
    if spec.d <= 2:
        return np.zeros((0, spec.rank, spec.width, spec.rank))
    core = params["core_middle"]
    if isinstance(core, np.ndarray):
        return np.repeat(core[None], spec.d - 2, axis=0)  # copies: cores stay independent
    from .._tensorflow import import_tensorflow

    tf = import_tensorflow()
    return tf.repeat(tf.expand_dims(core, 0), spec.d - 2, axis=0)


def to_network(
    spec: NetworkSpec, params: dict[str, np.ndarray], feature_map: FeatureMap
) -> TensorNetwork:
    """The tensorexpr network with the same score functions (float64 parameters).

    Parameters
    ----------
    spec : NetworkSpec
    params : dict of arrays
        Named as in :func:`param_names`.
    feature_map : FeatureMap
        The network's f, with its trained parameters.

    Returns
    -------
    CPNetwork, TTNetwork or HTNetwork
    """
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    xi = get_operator(spec.xi)
    if spec.kind == "cp":
        return CPNetwork(list(p["factors"]), feature_map, weights=p["weights"], xi=xi)
    if spec.kind == "tt":
        cores = [p["core_first"]]
        if spec.d > 1:
            cores += list(middle_cores(spec, p)) + [p["core_last"]]
        matrices = list(p["matrices"]) if "matrices" in p else None
        return TTNetwork(cores, feature_map, xi=xi, matrices=matrices)
    tree = spec.dimension_tree()
    factors: list = [None] * tree.n_nodes
    for k in range(spec.d):
        factors[tree.leaf(k)] = p["leaves"][k]
    for node in tree.internal_nodes:
        factors[node] = p[node_name(tree, node)]
    return HTNetwork(factors, feature_map, tree=tree, xi=xi)
