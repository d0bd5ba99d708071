"""Score functions as shallow (CP), recurrent (TT) and deep (HT) tensor networks.

One module per kind: the network class and its :class:`Layout` (the one owner of the kind's
parameter names, shapes and stacking). :data:`LAYOUTS` is the table of kinds; everything
that handles networks by kind (the engine, the gradient fit, the files, the estimators'
export) asks it (docs/theory.md, "Adding a network kind").
"""

from ..validation import check_choice
from ._base import Layout, TensorNetwork
from .cp import CPLayout, CPNetwork
from .ht import HTLayout, HTNetwork
from .tt import TTLayout, TTNetwork

__all__ = [
    "TensorNetwork",
    "CPNetwork",
    "TTNetwork",
    "HTNetwork",
    "Layout",
    "LAYOUTS",
    "KINDS",
    "layout_of",
]

#: The layout of every network kind, by name: shallow (CP), recurrent (TT), deep (HT).
LAYOUTS: dict[str, Layout] = {lay.kind: lay for lay in (CPLayout(), TTLayout(), HTLayout())}

#: The network kinds.
KINDS = tuple(LAYOUTS)


def layout_of(kind: str) -> Layout:
    """The :class:`Layout` of a kind; an error naming ``kind`` for an unknown one."""
    return LAYOUTS[check_choice(kind, "kind", KINDS)]
