"""What a network of the engine is: its shapes (:class:`NetworkSpec`) and its parameters.

The parameters are a dict of float64 numpy arrays, stacked where the positions share a shape
(so that a long train is one tensor for ``tf.scan``); their names, shapes and initial values
belong to the kind's layout (``tensorexpr.networks.layout_of(kind)``: ``factors`` and
``weights`` for CP, ``core_first`` / ``cores_middle`` / ``core_last`` / ``matrices`` for TT,
``leaves`` and ``node_0_1`` ... for HT). This module asks the layout and adds nothing per kind.

:func:`to_network` turns a spec and its parameters into the equal tensorexpr network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..features import FeatureMap
from ..networks import TensorNetwork, layout_of
from ..operators import get_operator
from ..trees import DimensionTree
from ..validation import check_size

__all__ = [
    "NetworkSpec",
    "param_names",
    "param_shapes",
    "member_spec",
    "member_feature_index",
    "init_params",
    "to_network",
]


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
        TT: one middle core for every position from 2 to d - 1 (parameter
        ``core_middle`` (r, L, r) instead of ``cores_middle``): the recurrent network with the
        same weights at every step (docs/theory.md section 7). HT: one leaf ``leaf`` (m, r)
        for every position and one transfer tensor ``level_h`` for every non-root node of
        height h (the convolutional circuit with weights shared across a layer). CP: one
        factor ``factor`` (m, R) for every position (the shallow convolutional circuit).
    members : int, default 1
        Number of networks of these shapes trained side by side and averaged: every
        parameter gains a leading axis of this length (:func:`param_shapes`), the scores are
        the members' mean (``scores``) and :func:`to_network` merges them into one network of
        rank ``members * rank`` that computes that mean exactly (each layout's
        ``merge_members``).
    member_features : tuple of tuples of int, optional
        With several members: the features of f(x) each member reads, ``m`` of them, from one
        feature map holding every member's own features (``member_features[k][j]`` is member
        k's feature j; :func:`member_feature_index`). None: every member reads all of f(x).
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
    members: int = 1
    member_features: tuple | None = None

    @property
    def width(self) -> int:
        """L: the size of the input to a TT core (m without matrices)."""
        return self.m if self.hidden_size is None else self.hidden_size

    def dimension_tree(self) -> DimensionTree:
        return DimensionTree(self.tree)


def member_spec(spec: NetworkSpec) -> NetworkSpec:
    """The spec of one member (``members=1``): what the kind's layout describes."""
    return spec if spec.members == 1 else replace(spec, members=1, member_features=None)


def member_feature_index(members: int, m: int, constant_index: int | None) -> tuple:
    """Which features of one map of every member's own features each member reads.

    The map holds ``members`` blocks of ``m - 1`` features and one constant shared by all
    (``constant_index``, the constant of every member), or ``members`` blocks of ``m``
    without a constant. Member k reads its block in order, then the constant: its own map of
    ``m`` features with the constant last (:func:`init_params` is given ``m - 1``).
    """
    own = m - (constant_index is not None)
    size = members * own + (constant_index is not None)
    units = [i for i in range(size) if i != constant_index]
    return tuple(
        tuple(units[k * own : (k + 1) * own])
        + ((constant_index,) if constant_index is not None else ())
        for k in range(members)
    )


def param_names(spec: NetworkSpec) -> list[str]:
    """The parameter names of a spec, in a fixed order (its kind's :class:`Layout`)."""
    return layout_of(spec.kind).names(member_spec(spec))


def param_shapes(spec: NetworkSpec) -> dict[str, tuple[int, ...]]:
    """The parameter shapes: the layout's, behind a leading ``(members,)`` axis if several."""
    shapes = layout_of(spec.kind).shapes(member_spec(spec))
    if spec.members == 1:
        return shapes
    return {k: (spec.members, *shape) for k, shape in shapes.items()}


def init_params(
    spec: NetworkSpec, rng: np.random.Generator, constant_index: int | None
) -> dict[str, np.ndarray]:
    """Initial parameters for training, drawn by the kind's layout (docs/theory.md section 7).

    Every position starts as a near-identity step: TT middle cores are the identity where they
    meet the constant feature of f(x), CP factors and HT leaves get 1 on it, HT internal nodes a
    diagonal ``B[a, a, a] = 1`` (see each layout's ``init``). The size is checked first:
    parameters, gradients and Adam's two moments.
    """
    layout, one = layout_of(spec.kind), member_spec(spec)
    check_size(
        4 * 8 * spec.members * layout.n_params(one),
        f"rank={spec.rank}, d={spec.d}, members={spec.members}",
        f"training a {spec.kind.upper()} network (m={spec.m}, n_outputs={spec.n_outputs})",
    )
    if spec.members == 1:
        return layout.init(spec, rng, constant_index)
    drawn = [layout.init(one, rng, constant_index) for _ in range(spec.members)]
    return {k: np.stack([p[k] for p in drawn]) for k in drawn[0]}


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
    layout, op = layout_of(spec.kind), get_operator(spec.xi)
    if spec.members > 1:
        one = member_spec(spec)
        members = [{k: v[i] for k, v in p.items()} for i in range(spec.members)]
        index = spec.member_features
        features = None if index is None else (feature_map.n_features, index)
        spec, p = layout.merge_members(one, members, op, features)
    return layout.to_network(spec, p, feature_map, op)
