"""Templates, feature matrices and grid tensors of black-box score functions.

The grid tensor of a score function l on templates x^(1..M) is the order-d tensor
``Gamma[i1, ..., id] = l(x^(i1), ..., x^(id))`` (docs/theory.md section 2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import tensorly as tl

from ._backend import DEFAULT_MEMORY_LIMIT, check_memory, float64, to_numpy
from .validation import (
    as_float_array,
    callable_name,
    check_callable_output,
    check_dense_order,
    check_memory_limit,
    check_positive_int,
    check_random_state,
)

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "check_templates",
    "feature_matrix",
    "templates_from_points",
    "random_templates",
    "kmeans_templates",
    "grid_tensor",
    "OnTemplates",
    "check_scores",
    "evaluate_in_blocks",
]


def check_templates(templates, n_inputs: int | None = None) -> np.ndarray:
    """Templates as a float64 numpy array of shape (M, n); 1-D input means n = 1."""
    arr = as_float_array(templates, "templates", ndim=(1, 2)).astype(np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.shape[0] < 1:
        raise ValueError(f"templates must hold at least one point, got shape {arr.shape}")
    if n_inputs is not None and arr.shape[1] != n_inputs:
        raise ValueError(
            f"templates must have shape (M, {n_inputs}) to match the feature map's "
            f"n_inputs={n_inputs}, got {arr.shape}"
        )
    return arr


def feature_matrix(feature_map, templates):
    """The feature matrix ``F[i, j] = f_j(x^(i))`` of the templates.

    Parameters
    ----------
    feature_map : FeatureMap
        The map f: R^n -> R^m.
    templates : array of shape (M, n)
        Template points (1-D for n = 1).

    Returns
    -------
    tensor of shape (M, m)
        In float64, on the current backend.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> te.feature_matrix(te.PolynomialFeatures(1, degree=2), np.array([0.0, 1.0, 2.0]))
    array([[1., 0., 0.],
           [1., 1., 1.],
           [1., 2., 4.]])
    """
    pts = check_templates(templates, feature_map.n_inputs)
    return feature_map(tl.tensor(pts, dtype=tl.backend.float64))


def templates_from_points(points) -> np.ndarray:
    """Given points as templates, validated: an (M, n) float64 array.

    Parameters
    ----------
    points : array of shape (M, n), or (M,) for n = 1
        Template points; finite reals.

    Returns
    -------
    ndarray of shape (M, n)

    Examples
    --------
    >>> from tensorexpr import templates_from_points
    >>> templates_from_points([0.0, 0.5, 1.0]).shape
    (3, 1)
    """
    return check_templates(points)


def _pool_positions(X, n_templates: int) -> tuple[np.ndarray, int]:
    """Data points with sequence positions pooled, (N, n), and the checked template count."""
    arr = as_float_array(X, "X", ndim=(1, 2, 3)).astype(np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    elif arr.ndim == 3:
        arr = arr.reshape(-1, arr.shape[2])
    m = check_positive_int(n_templates, "n_templates")
    if m > arr.shape[0]:
        raise ValueError(f"n_templates={m} exceeds the {arr.shape[0]} points in X")
    return arr, m


def random_templates(X, n_templates: int, random_state=None) -> np.ndarray:
    """A random subset of the data (without replacement) as templates.

    Parameters
    ----------
    X : array of shape (N, n) or (N, d, n)
        Data; the positions of sequences are pooled.
    n_templates : int
        M, at most the number of points.
    random_state : None, int or numpy Generator

    Returns
    -------
    ndarray of shape (M, n)

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import random_templates
    >>> random_templates(np.arange(20.0).reshape(10, 2), 3, random_state=0).shape
    (3, 2)
    """
    pts, m = _pool_positions(X, n_templates)
    idx = check_random_state(random_state).choice(pts.shape[0], size=m, replace=False)
    return pts[np.sort(idx)]


def kmeans_templates(X, n_templates: int, random_state=None) -> np.ndarray:
    """k-means cluster centres of the data as templates (scikit-learn's KMeans).

    Parameters
    ----------
    X : array of shape (N, n) or (N, d, n)
        Data; the positions of sequences are pooled.
    n_templates : int
        M, the number of clusters.
    random_state : None, int or numpy Generator

    Returns
    -------
    ndarray of shape (M, n)

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr import kmeans_templates
    >>> X = np.r_[np.zeros((5, 1)), np.ones((5, 1))]
    >>> np.sort(kmeans_templates(X, 2, random_state=0), axis=0).ravel().tolist()
    [0.0, 1.0]
    """
    from sklearn.cluster import KMeans

    pts, m = _pool_positions(X, n_templates)
    seed = int(check_random_state(random_state).integers(2**31 - 1))
    km = KMeans(n_clusters=m, n_init=4, random_state=seed).fit(pts)
    return km.cluster_centers_


def row_blocks(n_rows: int, bytes_per_row: int, budget: int) -> Iterator[slice]:
    """Slices of rows so that one block's work arrays fit in ``budget`` bytes."""
    per_block = max(1, int(budget // max(1, bytes_per_row)))
    for start in range(0, n_rows, per_block):
        yield slice(start, min(n_rows, start + per_block))


# -- the one block-wise evaluator of a score function ------------------------------------------
class OnTemplates:
    """A score function read as a function of template indices: ``tuples`` (batch, d) ints
    to ``score_fn(templates[tuples])``, the points a float64 tensor of the current backend of
    shape (batch, d, n). Picklable (joblib workers call it); its output is unchecked."""

    def __init__(self, score_fn: Callable, templates: np.ndarray):
        self.score_fn, self.templates = score_fn, templates

    def __call__(self, tuples: np.ndarray):
        return self.score_fn(tl.tensor(self.templates[tuples], dtype=float64()))


def check_scores(out, batch: int, name: str, multi_output: bool = False):
    """A score function's output on a batch: real (:func:`~tensorexpr.validation.
    check_callable_output`), of shape (batch,) (or (batch, C) when ``multi_output``), as the
    tensor it returned or a float64 numpy array."""
    out = check_callable_output(out, name)
    shape = tuple(tl.shape(out))
    if shape[:1] != (batch,) or len(shape) > (2 if multi_output else 1):
        expected = "(batch,) or (batch, C)" if multi_output else "(batch,)"
        raise ValueError(f"{name} must return shape {expected}; got {shape} for a batch of {batch}")
    return out


def evaluate_in_blocks(evaluate: Callable, n_tuples: int, tuples_of: Callable, batch_size: int):
    """``evaluate(tuples_of(block))`` for consecutive blocks of at most ``batch_size`` of the
    ``n_tuples`` index tuples, as a list: the index tuples of one block only exist at a time.

    The one loop by which a score function is evaluated in blocks (:func:`grid_tensor`, the
    certificates' entries, :func:`tensorexpr.tt_cross`'s entries); ``evaluate`` calls it (an
    :class:`OnTemplates`) and checks its output."""
    return [evaluate(tuples_of(block)) for block in row_blocks(n_tuples, 1, batch_size)]


def grid_tensor(
    score_fn: Callable,
    templates,
    d: int,
    batch_size: int = 8192,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
):
    """Grid tensor of any score function, by evaluating it on every template tuple.

    This is the slow, independent path: ``M^d`` evaluations in batches. Networks
    have fast routes (:meth:`TTNetwork.grid_tensor` and friends).

    Parameters
    ----------
    score_fn : callable
        Maps a tensor of shape (batch, d, n) to (batch,) or (batch, C).
    templates : array of shape (M, n)
        Template points (1-D for n = 1).
    d : int
        Number of positions.
    batch_size : int, default 8192
        Tuples evaluated per call of ``score_fn``.
    memory_limit : int
        Bytes allowed for the result; a larger grid raises ValueError up front.

    Returns
    -------
    tensor of shape (M,) * d, or (M,) * d + (C,)
        On the current backend, with the dtype ``score_fn`` returns.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorexpr as te
    >>> G = te.grid_tensor(lambda X: X[:, 0, 0] * X[:, 1, 0], [1.0, 2.0, 3.0], d=2)
    >>> G.tolist()
    [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]]
    """
    if not callable(score_fn):
        raise TypeError(f"score_fn must be callable, got {type(score_fn).__name__}")
    pts = check_templates(templates)
    d = check_positive_int(d, "d")
    batch_size = check_positive_int(batch_size, "batch_size")
    memory_limit = check_memory_limit(memory_limit)
    M = pts.shape[0]
    total = M**d
    check_dense_order(d, f"d={d}", "the grid tensor")
    check_memory(total * 8, memory_limit, f"a grid tensor of {M}^{d} entries")
    name = f"score_fn {callable_name(score_fn)!r}"
    on_templates = OnTemplates(score_fn, pts)

    def evaluate(idx):
        out = check_scores(on_templates(idx), len(idx), name, multi_output=True)
        return out if tl.is_tensor(out) else tl.tensor(to_numpy(out))

    def tuples_of(block):  # (batch, d), mode 0 slowest
        return np.stack(np.unravel_index(np.arange(block.start, block.stop), (M,) * d), axis=1)

    outputs = evaluate_in_blocks(evaluate, total, tuples_of, batch_size)
    full = tl.concatenate(outputs, axis=0) if len(outputs) > 1 else outputs[0]
    return tl.reshape(full, (M,) * d + tuple(tl.shape(full)[1:]))
