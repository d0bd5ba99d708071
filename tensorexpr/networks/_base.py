"""The base of the CP, TT and HT networks and what every kind shares.

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

:class:`Layout` is what a kind's module defines beside its network class: the one place that
knows the kind's parameters (names, shapes, how they stack for the engine, how a file names
them); see docs/theory.md, "Adding a network kind".
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import tensorly as tl

from .._backend import tensor_like
from ..features import FeatureMap, check_feature_map
from ..grid import DEFAULT_MEMORY_LIMIT, check_memory, feature_matrix, row_blocks
from ..ht_tensor import HTTensor
from ..operators import Operator, get_operator
from ..validation import as_float_array, check_dense_order, check_memory_limit, check_tensor

__all__ = ["TensorNetwork", "Layout", "check_params", "block_budget", "combine_blocks"]


def check_params(arrays, name: str, ndim: int) -> list[np.ndarray]:
    if isinstance(arrays, (str, bytes)) or not hasattr(arrays, "__len__"):
        raise TypeError(f"{name} must be a list of arrays, got {type(arrays).__name__}")
    out = [
        as_float_array(a, f"{name}[{k}]", ndim=ndim).astype(np.float64)
        for k, a in enumerate(arrays)
    ]
    if not out:
        raise ValueError(f"{name} must not be empty")
    return out


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
MAX_BLOCK_BYTES = 2**26


def block_budget(memory_limit: int, reserved: int) -> int:
    """Bytes one work block of a grid recursion may take, ``reserved`` set aside."""
    return max(1, min(MAX_BLOCK_BYTES, memory_limit - reserved))


def combine_blocks(xi: Operator, left, right, weights, memory_limit: int, reserved: int):
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
    for rows in row_blocks(P, 2 * Q * A * B * 8, block_budget(memory_limit, reserved)):
        lb = left[rows]
        n = tl.shape(lb)[0]
        pair = xi.combine(tl.reshape(lb, (n, 1, A, 1)), r)  # (n, Q, A, B)
        blocks.append(tl.dot(tl.reshape(pair, (n * Q, A * B)), w))
    return tl.concatenate(blocks, axis=0) if len(blocks) > 1 else blocks[0]


class Layout:
    """The parameters of one network kind: their names, shapes, stacking and file names.

    A kind's module defines its network class and one layout beside it; the engine, the
    gradient fit, the files and the estimators' export ask the layout (docs/theory.md,
    "Adding a network kind"). Two forms of the same parameters exist:

    - the network's own: lists of float64 arrays, one per position or tree node
      (``factors``, ``cores``, ...), which a file stores one array per entry;
    - the engine's: a dict of float64 arrays stacked where positions share a shape, so that a
      long train is one tensor for ``tf.scan``.

    Methods taking a ``spec`` read its fields ``d``, ``m``, ``rank``, ``n_outputs`` and the
    kind's own (``tree``, ``hidden_size``, ``shared_cores``): a
    :class:`tensorexpr.engine.NetworkSpec`.

    Attributes
    ----------
    kind : str
        The kind's name (``network.kind``).
    network : type
        Its :class:`TensorNetwork` subclass.
    options : tuple of str
        The spec fields only this kind uses.
    inputs : tuple of str
        The engine arrays that multiply f(x) (on one-hot templates: free vectors).
    """

    kind = ""
    network: type = None
    options: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()

    def shapes(self, spec) -> dict[str, tuple[int, ...]]:  # pragma: no cover - abstract
        """The engine's parameter names (in a fixed order) and shapes; nothing allocated."""
        raise NotImplementedError

    def names(self, spec) -> list[str]:
        """The engine's parameter names, in a fixed order."""
        return list(self.shapes(spec))

    def n_params(self, spec) -> int:
        """Number of engine parameters (Python ints: no overflow, nothing allocated)."""
        return sum(math.prod(shape) for shape in self.shapes(spec).values())

    def output_name(self, spec) -> str:  # pragma: no cover - abstract
        """The engine array that makes the scores (the output layer)."""
        raise NotImplementedError

    def init(self, spec, rng, constant_index) -> dict:  # pragma: no cover - abstract
        """Initial engine parameters for training (docs/theory.md section 7)."""
        raise NotImplementedError

    def to_network(self, spec, params: dict, feature_map, xi):  # pragma: no cover - abstract
        """The network of engine parameters ``params`` (float64 numpy arrays)."""
        raise NotImplementedError

    #: whether the members' mean is one network for every xi (CP: its units add up), or
    #: for xi = product only (TT, HT: block-diagonal cores are multilinear)
    merges_any_xi = False

    def merges(self, xi) -> bool:
        """Whether networks of this kind with operator ``xi`` merge into one (their mean)."""
        return self.merges_any_xi or xi.is_product

    def rank_axes(self, spec) -> dict[str, tuple[int, ...]]:  # pragma: no cover - abstract
        """The axes of every engine array that run over a rank (the axes that grow when
        networks are merged); None for an array that cannot be merged."""
        raise NotImplementedError

    def feature_axes(self, spec) -> dict[str, int | None]:  # pragma: no cover - abstract
        """The axis of every engine array that runs over the features of f(x); None for an
        array that does not read f(x) (HT's internal nodes)."""
        raise NotImplementedError

    def merge_members(self, spec, members: list[dict], xi, features=None):
        """``(spec, params)`` of one network whose scores are the mean of the members'.

        The members' arrays are placed block-diagonally along their rank axes (a rank of
        ``len(members) * spec.rank``), and the output array is divided by the number of
        members: scores are multilinear in the blocks for xi = product, and a CP network's
        units add up for any xi.

        ``features``, when the members read their own features of one feature map:
        ``(n_features, index)``, the map's size and, for member k, the features it reads
        (``index[k][j]`` is its feature j). Each array is then also spread along its feature
        axis to the map's size, member k's values at ``index[k]`` and zeros elsewhere: member
        k's block meets its own features only, so the merged network still computes the mean.
        """
        K = len(members)
        if not self.merges(xi):
            raise ValueError(
                f"members={K} {self.kind.upper()} networks merge into one network only for "
                f"xi='product', got xi={xi.name!r}"
            )
        output = self.output_name(spec)
        feature_axes = self.feature_axes(spec) if features is not None else {}
        merged = {}
        for name, axes in self.rank_axes(spec).items():
            if axes is None:
                raise ValueError(
                    f"members={K}: the {self.kind.upper()} array {name!r} of "
                    "each member cannot be merged"
                )
            blocks = [np.asarray(p[name]) for p in members]
            if feature_axes.get(name) is not None:
                blocks = [
                    _spread(block, feature_axes[name], features[0], features[1][k])
                    for k, block in enumerate(blocks)
                ]
            out = np.zeros(
                [n * K if a in axes else n for a, n in enumerate(blocks[0].shape)], blocks[0].dtype
            )
            for k, block in enumerate(blocks):
                where = tuple(
                    slice(k * n, (k + 1) * n) if a in axes else slice(None)
                    for a, n in enumerate(block.shape)
                )
                out[where] = block if axes else out[where] + block
            merged[name] = out / K if name == output else out
        m = spec.m if features is None else features[0]
        return replace(spec, rank=K * spec.rank, m=m), merged

    def params_of(self, network) -> dict:  # pragma: no cover - abstract
        """The engine parameters of a network: the inverse of :meth:`to_network`."""
        raise NotImplementedError

    def file_arrays(self, network) -> dict:  # pragma: no cover - abstract
        """The network's arrays under their file names (``"factors.0"``, ...)."""
        raise NotImplementedError

    def from_file(self, read, d, tree, feature_map, xi):  # pragma: no cover - abstract
        """The network of a file's arrays.

        ``read.array(name)``, ``read.series(prefix, n)`` (``prefix.0 .. prefix.{n-1}``) and
        ``read.listed(prefix)`` give the arrays, checked; ``d`` is None in format-1 files.
        """
        raise NotImplementedError

    def one_hot(self, network, F):
        """The equal network on one-hot templates: ``F`` (M, m) folded into the inputs."""
        raise NotImplementedError  # pragma: no cover - abstract

    def fitted(self, network):
        """The network a gradient fit returns (a kind may simplify it); the same by default."""
        return network


def _spread(block: np.ndarray, axis: int, size: int, index) -> np.ndarray:
    """``block`` with its ``axis`` spread to ``size``: entry j moves to ``index[j]``, zeros
    elsewhere (a member's array against the features of a larger map)."""
    shape = list(block.shape)
    shape[axis] = size
    out = np.zeros(shape, block.dtype)
    where = [slice(None)] * block.ndim
    where[axis] = np.asarray(index)
    out[tuple(where)] = block
    return out
