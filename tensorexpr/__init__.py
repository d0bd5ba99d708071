"""tensorexpr: the expressive power of tensor networks, on TensorLy."""

from ._backend import get_backend, set_backend
from .features import (
    FeatureMap,
    LinearFeatures,
    PolynomialFeatures,
    ReLUFeatures,
    TrigFeatures,
)
from . import decomposition
from .decomposition import *  # noqa: F403
from .ht_tensor import HTTensor
from .operators import Operator, generalized_outer, get_operator
from .trees import DimensionTree

__version__ = "0.1.0"

__all__ = [
    "set_backend",
    "get_backend",
    "FeatureMap",
    "ReLUFeatures",
    "LinearFeatures",
    "TrigFeatures",
    "PolynomialFeatures",
    "Operator",
    "get_operator",
    "generalized_outer",
    "DimensionTree",
    "HTTensor",
    *decomposition.__all__,
]
