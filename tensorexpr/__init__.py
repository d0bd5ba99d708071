"""tensorexpr: the expressive power of tensor networks, on TensorLy."""

from . import decomposition
from ._backend import get_backend, set_backend
from .construction import (
    ConstructionRanks,
    construct_generalized,
    construction_ranks,
    relu_sum_floor,
    relu_sum_projection,
)
from .decomposition import *  # noqa: F403
from .expressivity import (
    MatricizationRank,
    ShallowWidthBound,
    WidthConversion,
    matricization,
    matricization_rank,
    shallow_width_lower_bound,
    width_conversion_bounds,
)
from .features import (
    FeatureMap,
    LinearFeatures,
    PolynomialFeatures,
    ReLUFeatures,
    TrigFeatures,
)
from .grid import (
    feature_matrix,
    grid_tensor,
    kmeans_templates,
    random_templates,
    templates_from_points,
)
from .ht_tensor import HTTensor
from .network_io import load_network, save_network
from .networks import CPNetwork, HTNetwork, TTNetwork
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
    "CPNetwork",
    "TTNetwork",
    "HTNetwork",
    "feature_matrix",
    "grid_tensor",
    "templates_from_points",
    "random_templates",
    "kmeans_templates",
    "matricization",
    "matricization_rank",
    "MatricizationRank",
    "shallow_width_lower_bound",
    "ShallowWidthBound",
    "width_conversion_bounds",
    "WidthConversion",
    "save_network",
    "load_network",
    "construct_generalized",
    "construction_ranks",
    "ConstructionRanks",
    "relu_sum_floor",
    "relu_sum_projection",
    *decomposition.__all__,
]
