"""What an analysis function is given, resolved once at its entry.

A network (its grid tensor on templates, or its coefficient tensor W: docs/theory.md 2), a
dense tensor, a TT or HT tensor (made dense, size-checked), or a score function with templates
and ``d``. Every public analysis function calls :func:`resolve_input` first; what it returns is
passed down, so the helpers below never test the kind of their input again. The modes of a
matricization are resolved here too (:func:`row_modes_of`).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import tensorly as tl

from .._backend import DEFAULT_MEMORY_LIMIT, check_memory, dense_bytes
from ..grid import check_templates
from ..validation import check_memory_limit, check_positive_int, check_tensor

#: The kinds of analysis input, as error messages name them.
_KIND_NAMES = {"network": "a network", "tensor": "a tensor", "function": "a score function"}


@dataclass(frozen=True)
class AnalysisInput:
    """An analysis input of one known kind.

    Attributes
    ----------
    kind : {"network", "tensor", "function"}
    value : network, tensor or callable
        The network, the dense tensor (current backend) or the score function.
    templates : ndarray of shape (M, n) or None
        Checked templates (a network's grid, a function's points); None for a tensor and for
        a product network's coefficient tensor W.
    d : int
        Order of the analysed tensor.
    """

    kind: str
    value: object
    templates: np.ndarray | None
    d: int

    @property
    def network(self):
        """The network, or None."""
        return self.value if self.kind == "network" else None

    @property
    def mode_size(self) -> int:
        """Size of every mode of a grid (templates, or a network's features); a tensor's first."""
        if self.templates is not None:
            return self.templates.shape[0]
        if self.kind == "network":
            return self.value.n_features
        return int(tl.shape(self.value)[0])

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the analysed tensor."""
        if self.kind == "tensor":
            return tuple(tl.shape(self.value))
        return (self.mode_size,) * self.d


def _is_network(obj) -> bool:
    from ..networks import TensorNetwork

    return isinstance(obj, TensorNetwork)


def _factorized_to_dense(tensor, name: str, memory_limit: int):
    """A TT (tensorly ``TTTensor``) or HT tensor as its dense tensor, after a size check."""
    shape = tuple(int(n) for n in tensor.shape)
    check_memory(
        dense_bytes(shape),
        check_memory_limit(memory_limit),
        f"the dense tensor of the {type(tensor).__name__} {name} (shape {shape})",
    )
    return tensor.to_tensor()


def _is_factorized(obj) -> bool:
    from tensorly.tt_tensor import TTTensor

    from ..ht_tensor import HTTensor

    return isinstance(obj, (TTTensor, HTTensor))


def resolve_input(
    source,
    templates=None,
    d=None,
    name: str = "source",
    kinds: tuple[str, ...] = ("network", "tensor"),
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
) -> AnalysisInput:
    """Resolve ``source`` once: its kind, checked templates and order.

    Parameters
    ----------
    source : network, tensor, TTTensor, HTTensor, callable or AnalysisInput
        An AnalysisInput is returned as it is (already resolved).
    templates : array of shape (M, n), optional
        For a network (its grid tensor; omitted: a product network's coefficient tensor W)
        or a score function (required).
    d : int, optional
        Order of a score function's grid (required for one; a network and a tensor have
        their own).
    name : str
        The argument's name in error messages.
    kinds : tuple of {"network", "tensor", "function"}, default ("network", "tensor")
        The kinds the caller analyses; another raises TypeError saying which are accepted.
    memory_limit : int
        Bytes allowed for the dense tensor of a TT or HT tensor.

    Returns
    -------
    AnalysisInput

    Raises
    ------
    TypeError
        An input of a kind not in ``kinds``.
    ValueError
        A multi-output network, a generalized network without templates, a score function
        without templates or ``d``, templates given with a tensor.
    """
    if isinstance(source, AnalysisInput):
        return source
    kind = "network" if _is_network(source) else "function" if callable(source) else "tensor"
    if kind not in kinds:
        accepted = " or ".join(_KIND_NAMES[k] for k in kinds)
        got = type(source).__name__
        hint = ""
        if kind == "function":
            hint = "; a score function is analysed by certify_matricization_rank(fn, templates, d)"
        raise TypeError(f"{name} must be {accepted}, got {_KIND_NAMES[kind]} ({got}){hint}")
    if kind == "network":
        return _resolve_network(source, templates)
    if kind == "function":
        if templates is None or d is None:
            raise ValueError("a score function needs templates and d")
        return AnalysisInput(
            "function", source, check_templates(templates), check_positive_int(d, "d")
        )
    if templates is not None:
        users = " or ".join(_KIND_NAMES[k] for k in kinds if k != "tensor")
        raise ValueError(f"templates are only used with {users}, not with a tensor")
    if _is_factorized(source):
        source = _factorized_to_dense(source, name, memory_limit)
    tensor = check_tensor(source, name)
    return AnalysisInput("tensor", tensor, None, len(tl.shape(tensor)))


def _resolve_network(net, templates) -> AnalysisInput:
    if net.n_outputs > 1:
        raise ValueError(
            f"the network must have a single output, this one has n_outputs={net.n_outputs}"
        )
    if templates is None and not net.xi.is_product:
        raise ValueError(
            f"templates are required for a xi={net.xi.name!r} network: the bound is on its "
            "grid tensor"
        )
    pts = None if templates is None else check_templates(templates)
    return AnalysisInput("network", net, pts, net.d)


def row_modes_of(row_modes, order: int) -> tuple[int, ...]:
    """Resolve ``"odd"`` (modes 1, 3, 5... counted from 1, i.e. 0, 2, 4... from 0),
    ``"even"`` or a sequence of mode indices into a sorted tuple, validated."""
    if isinstance(row_modes, str):
        if row_modes == "odd":
            modes = tuple(range(0, order, 2))
        elif row_modes == "even":
            modes = tuple(range(1, order, 2))
        else:
            raise ValueError(
                f"row_modes must be 'odd', 'even' or a sequence of ints, got {row_modes!r}"
            )
    else:
        if not isinstance(row_modes, Sequence) and not isinstance(row_modes, np.ndarray):
            raise TypeError(
                f"row_modes must be 'odd', 'even' or a sequence of ints, got {row_modes!r}"
            )
        modes = []
        for mode in row_modes:
            if isinstance(mode, bool) or not isinstance(mode, numbers.Integral):
                raise TypeError(f"row_modes must hold ints, got {mode!r}")
            if not 0 <= mode < order:
                raise ValueError(f"row_modes must be modes in [0, {order}), got {mode}")
            modes.append(int(mode))
        if len(set(modes)) != len(modes):
            raise ValueError(f"row_modes must not repeat a mode, got {list(row_modes)}")
        modes = tuple(sorted(modes))
    if not modes or len(modes) == order:
        raise ValueError(
            f"row_modes must be a non-empty proper subset of the {order} modes, got {modes}"
        )
    return modes
