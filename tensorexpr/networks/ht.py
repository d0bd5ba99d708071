"""The deep network (HT, a convolutional arithmetic circuit) and its parameter layout."""

from __future__ import annotations

import numpy as np
import tensorly as tl

from ..features import FeatureMap, LinearFeatures, check_feature_map
from ..ht_tensor import HTTensor
from ..trees import DimensionTree, check_tree
from ..validation import (
    as_float_array,
    check_positive_int,
    check_random_state,
    check_rank,
    check_size,
)
from ._base import Layout, TensorNetwork, combine_blocks

__all__ = ["HTNetwork", "HTLayout", "node_name", "node_heights", "level_name"]


def node_name(tree: DimensionTree, node: int) -> str:
    """Engine name of an internal node: the modes below it, ``"node_0_1"``."""
    return "node_" + "_".join(str(k) for k in tree.modes(node))


def node_heights(tree: DimensionTree) -> list[int]:
    """The height of every node (0 for a leaf, 1 + the taller child's otherwise)."""
    height = [0] * tree.n_nodes
    for node in range(tree.n_nodes):  # post-order: children first
        children = tree.children(node)
        if children is not None:
            height[node] = 1 + max(height[c] for c in children)
    return height


def level_name(height: int) -> str:
    """Engine name of the transfer tensor shared by the non-root nodes of one height."""
    return f"level_{height}"


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
        rank,
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
            U[node] = combine_blocks(
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


class HTLayout(Layout):
    """Engine parameters ``leaves`` (d, m, r), the leaf of mode k at ``leaves[k]``, and one
    transfer tensor per internal node, named by the modes below it (:func:`node_name`), so that
    nothing depends on how a tree numbers its nodes. With ``shared_cores`` (the convolutional
    form): one ``leaf`` (m, r) for every position and one ``level_h`` (r, r, r) for every
    non-root node of height h (:func:`level_name`), the root its own. Files: ``factors.k`` in
    post-order."""

    kind = "ht"
    network = HTNetwork
    options = ("tree", "shared_cores")
    inputs = ("leaves", "leaf")

    @staticmethod
    def _shared(spec) -> bool:
        return bool(spec.shared_cores) and spec.d > 1

    def shapes(self, spec):
        d, m, r, C = spec.d, spec.m, spec.rank, spec.n_outputs
        if d == 1:
            return {"leaves": (1, m, C)}
        tree = spec.dimension_tree()
        if self._shared(spec):
            heights = node_heights(tree)
            shapes = {"leaf": (m, r)}
            for h in sorted({heights[n] for n in tree.internal_nodes if n != tree.root}):
                shapes[level_name(h)] = (r, r, r)
            shapes[node_name(tree, tree.root)] = (r, r, C)
            return shapes
        shapes = {"leaves": (d, m, r)}
        for node in tree.internal_nodes:
            shapes[node_name(tree, node)] = (r, r, C if node == tree.root else r)
        return shapes

    def output_name(self, spec):
        tree = spec.dimension_tree()
        return node_name(tree, tree.root) if spec.d > 1 else "leaves"

    def rank_axes(self, spec):
        output = self.output_name(spec)
        leaf_axes = {"leaves": (2,) if spec.d > 1 else (), "leaf": (1,)}
        return {
            k: leaf_axes[k] if k in leaf_axes else (0, 1) if k == output else (0, 1, 2)
            for k in self.shapes(spec)
        }

    def feature_axes(self, spec):
        axes = {"leaves": 1, "leaf": 0}
        return {k: axes.get(k) for k in self.shapes(spec)}

    def init(self, spec, rng, constant_index):
        """Leaves ``N(0, 1/(4m))`` plus 1 on the constant feature; internal nodes a diagonal
        ``B[a, a, a] = 1`` plus ``N(0, 1/(4r^2))``; the root ``N(0, 1/r^2)``. Shared, the
        leaf and each level are drawn once, at the same scales."""
        d, m, r, C = spec.d, spec.m, spec.rank, spec.n_outputs
        if d == 1:
            return {"leaves": rng.standard_normal((1, m, C)) / np.sqrt(m)}
        diag = np.zeros((r, r, r))
        diag[np.arange(r), np.arange(r), np.arange(r)] = 1.0
        params = {}
        for name, shape in self.shapes(spec).items():
            if name in ("leaves", "leaf"):
                leaves = 1.0 / (2.0 * np.sqrt(m)) * rng.standard_normal(shape)
                if constant_index is not None:
                    leaves[..., constant_index, :] += 1.0
                params[name] = leaves
            elif name == self.output_name(spec):
                params[name] = rng.standard_normal((r, r, C)) / r
            else:
                params[name] = diag + rng.standard_normal((r, r, r)) / (2.0 * r)
        return params

    def node_params(self, spec, params) -> dict[int, object]:
        """Every tree node's array: a leaf's (m, r), an internal node's transfer tensor (the
        shared leaf and levels repeated, the same objects)."""
        tree = spec.dimension_tree()
        out = {}
        if self._shared(spec):
            heights = node_heights(tree)
            for k in range(spec.d):
                out[tree.leaf(k)] = params["leaf"]
            for node in tree.internal_nodes:
                name = node_name(tree, node) if node == tree.root else level_name(heights[node])
                out[node] = params[name]
            return out
        for k in range(spec.d):
            out[tree.leaf(k)] = params["leaves"][k]
        for node in tree.internal_nodes:
            out[node] = params[node_name(tree, node)]
        return out

    def to_network(self, spec, params, feature_map, xi):
        tree = spec.dimension_tree()
        nodes = self.node_params(spec, params)
        factors = [np.array(nodes[node]) for node in range(tree.n_nodes)]
        return HTNetwork(factors, feature_map, tree=tree, xi=xi)

    def params_of(self, network):
        """Unshared parameters (``leaves`` and one array per node)."""
        tree = network.tree
        if len(set(network.ranks[:-1])) > 1:
            raise ValueError(
                f"the engine stacks the leaves: an HTNetwork needs one rank below the root, got "
                f"ranks={network.ranks}"
            )
        params = {"leaves": np.stack([network.factors[tree.leaf(k)] for k in range(network.d)])}
        for node in tree.internal_nodes:
            params[node_name(tree, node)] = network.factors[node]
        return params

    def file_arrays(self, network):
        return {f"factors.{k}": f for k, f in enumerate(network.factors)}

    def from_file(self, read, d, tree, feature_map, xi):
        return HTNetwork(read.series("factors", tree.n_nodes), feature_map, tree, xi=xi)

    def one_hot(self, network, F):
        tree = network.tree
        factors = [F @ f if tree.is_leaf(node) else f for node, f in enumerate(network.factors)]
        identity = LinearFeatures.identity(F.shape[0])
        return HTNetwork(factors, identity, tree=tree, xi=network.xi)
