"""Score functions as shallow (CP), recurrent (TT) and deep (HT) tensor networks."""

from ._base import CPNetwork, HTNetwork, TensorNetwork, TTNetwork

__all__ = ["TensorNetwork", "CPNetwork", "TTNetwork", "HTNetwork"]
