"""Binary dimension trees for the Hierarchical Tucker format.

A tree over the modes ``0..d-1`` is given as nested pairs, e.g. ``((0, 1), (2, 3))``.
Nodes are numbered in post-order (children before parents, root last), so a
list of per-node factors can be built and contracted in one pass.
"""

from __future__ import annotations

import numbers

from .validation import check_positive_int, check_size

__all__ = ["DimensionTree", "check_tree"]


class DimensionTree:
    """A binary tree whose leaves are the modes ``0..d-1`` of a tensor.

    Parameters
    ----------
    structure : int or nested 2-tuples of ints
        Every internal node is a pair ``(left, right)``; every mode appears
        exactly once as a leaf.

    Attributes
    ----------
    d : int
        Number of modes.
    structure : nested tuples
        The structure as given (normalised to tuples).
    n_nodes : int
        ``2 d - 1``.
    root : int
        Index of the root (``n_nodes - 1``).

    Examples
    --------
    >>> from tensorexpr import DimensionTree
    >>> tree = DimensionTree.balanced(4)
    >>> tree.structure
    ((0, 1), (2, 3))
    >>> tree.modes(tree.root)
    (0, 1, 2, 3)
    >>> [tree.children(i) for i in range(tree.n_nodes)]
    [None, None, (0, 1), None, None, (3, 4), (2, 5)]
    """

    def __init__(self, structure):
        self.structure = self._normalise(structure)
        self._children: list[tuple[int, int] | None] = []
        self._modes: list[tuple[int, ...]] = []
        self._build(self.structure)
        leaves = [m for i, m in enumerate(self._modes) if self._children[i] is None]
        flat = sorted(mode[0] for mode in leaves)
        self.d = len(flat)
        if flat != list(range(self.d)):
            raise ValueError(
                "tree must have the modes 0..d-1 as leaves, each exactly once; "
                f"got leaves {sorted(flat)}"
            )
        self.n_nodes = len(self._children)
        self.root = self.n_nodes - 1
        self._parent = [None] * self.n_nodes
        for i, ch in enumerate(self._children):
            if ch is not None:
                for c in ch:
                    self._parent[c] = i
        self._leaf_of_mode = {self._modes[i][0]: i for i in range(self.n_nodes) if self.is_leaf(i)}

    @staticmethod
    def _normalise(structure):
        # iterative (explicit stack): a linear tree over d modes nests d deep, beyond Python's
        # recursion limit for d > ~1000
        stack, done = [(structure, False)], []
        while stack:
            node, built = stack.pop()
            if built:
                right = done.pop()
                done.append((done.pop(), right))
                continue
            if isinstance(node, bool) or not isinstance(node, (numbers.Integral, tuple, list)):
                raise TypeError(f"tree nodes must be ints (modes) or pairs of nodes, got {node!r}")
            if isinstance(node, numbers.Integral):
                if node < 0:
                    raise ValueError(f"tree leaves must be modes >= 0, got {node}")
                done.append(int(node))
                continue
            if len(node) != 2:
                raise ValueError(
                    f"every internal tree node must have exactly 2 children, got {node!r}"
                )
            stack += [(node, True), (node[1], False), (node[0], False)]
        return done[0]

    def _build(self, structure) -> int:
        """Nodes in post-order (left subtree, right subtree, node), without recursion."""
        stack, index = [(structure, False)], []
        while stack:
            node, built = stack.pop()
            if isinstance(node, int):
                self._children.append(None)
                self._modes.append((node,))
            elif built:
                right = index.pop()
                left = index.pop()
                self._children.append((left, right))
                self._modes.append(self._modes[left] + self._modes[right])
            else:
                stack += [(node, True), (node[1], False), (node[0], False)]
                continue
            index.append(len(self._children) - 1)
        return index[0]

    @classmethod
    def balanced(cls, d: int) -> DimensionTree:
        """Contiguous pairs, then pairs of pairs, ...: ``((0, 1), (2, 3))`` for d = 4.

        For d not a power of 2 the last node of an odd level moves up unpaired,
        like size-2 pooling windows: d = 6 gives ``(((0, 1), (2, 3)), (4, 5))``.
        """
        d = check_positive_int(d, "d")
        # 2d - 1 nodes, each listing its modes: d (depth + 1) entries in all
        check_size(8 * d * (d.bit_length() + 2) + 256 * d, f"d={d}", "a balanced tree")
        level = list(range(d))
        while len(level) > 1:
            nxt = [(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            level = nxt
        return cls(level[0])

    @classmethod
    def linear(cls, d: int) -> DimensionTree:
        """The TT-like tree ``(((0, 1), 2), 3)`` for d = 4."""
        d = check_positive_int(d, "d")
        # node k lists its k + 1 modes: d (d + 1) / 2 entries in all
        check_size(8 * d * (d + 3) // 2, f"d={d}", "the mode lists of a linear tree")
        node = 0
        for k in range(1, d):
            node = (node, k)
        return cls(node)

    def is_leaf(self, node: int) -> bool:
        return self._children[node] is None

    def children(self, node: int) -> tuple[int, int] | None:
        """The (left, right) children of a node, None for a leaf."""
        return self._children[node]

    def parent(self, node: int) -> int | None:
        return self._parent[node]

    def modes(self, node: int) -> tuple[int, ...]:
        """The modes below a node, in the tree's left-to-right order."""
        return self._modes[node]

    def leaf(self, mode: int) -> int:
        """The node index of the leaf of a mode."""
        return self._leaf_of_mode[mode]

    @property
    def leaves(self) -> list[int]:
        """Leaf node indices ordered by mode."""
        return [self._leaf_of_mode[k] for k in range(self.d)]

    @property
    def internal_nodes(self) -> list[int]:
        """Internal node indices in post-order (root last)."""
        return [i for i in range(self.n_nodes) if not self.is_leaf(i)]

    @property
    def mode_order(self) -> tuple[int, ...]:
        """The modes in the order the root lists them."""
        return self._modes[self.root]

    def depth(self) -> int:
        # post-order: children come before their parent
        depth = [0] * self.n_nodes
        for node, ch in enumerate(self._children):
            if ch is not None:
                depth[node] = 1 + max(depth[ch[0]], depth[ch[1]])
        return depth[self.root]

    def __eq__(self, other) -> bool:
        return isinstance(other, DimensionTree) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple:
        # flat (children in post-order, leaf modes): comparing the nested structure recurses
        # once per level, beyond Python's limit for a deep (linear) tree
        leaves = tuple(self._modes[i][0] for i in range(self.n_nodes) if self.is_leaf(i))
        return tuple(self._children), leaves

    def __repr__(self) -> str:
        if self.depth() > _REPR_DEPTH:  # repr of the nested tuples would recurse too deep
            return f"DimensionTree(<d={self.d}, depth={self.depth()}>)"
        return f"DimensionTree({self.structure!r})"

    def __reduce__(self):
        # pickled in the flat form: pickling the nested structure recurses once per level
        return (_tree_from_key, self._key())


#: Deepest tree whose repr spells out the structure.
_REPR_DEPTH = 100


def _tree_from_key(children, leaves) -> DimensionTree:
    """The tree of ``DimensionTree._key()``: nodes in post-order, built without recursion."""
    nodes: list = []
    modes = iter(leaves)
    for ch in children:
        nodes.append(next(modes) if ch is None else (nodes[ch[0]], nodes[ch[1]]))
    return DimensionTree(nodes[-1])


def check_tree(tree, d: int) -> DimensionTree:
    """``tree`` as a DimensionTree over ``d`` modes; None gives ``DimensionTree.balanced(d)``.

    Raises
    ------
    TypeError
        ``tree`` is neither None nor a DimensionTree.
    ValueError
        ``tree`` has another number of leaves than ``d``.
    """
    if tree is None:
        return DimensionTree.balanced(d)
    if not isinstance(tree, DimensionTree):
        raise TypeError(f"tree must be None or a DimensionTree, got {type(tree).__name__}")
    if tree.d != d:
        raise ValueError(f"tree must be a DimensionTree over d={d} modes, got {tree!r}")
    return tree
