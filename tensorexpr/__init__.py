"""tensorexpr: the expressive power of tensor networks, on TensorLy."""

from . import decomposition
from ._backend import get_backend, set_backend
from .decomposition import *  # noqa: F403
from .engine import GeneralizedFit, fit_generalized
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
    feature_map_names,
    make_feature_map,
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
from .networks import CPNetwork, HTNetwork, TensorNetwork, TTNetwork
from .operators import (
    Operator,
    generalized_outer,
    get_operator,
    operator_names,
    register_operator,
)
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
    "make_feature_map",
    "feature_map_names",
    "Operator",
    "get_operator",
    "register_operator",
    "operator_names",
    "generalized_outer",
    "DimensionTree",
    "HTTensor",
    "TensorNetwork",
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
    "fit_generalized",
    "GeneralizedFit",
    *decomposition.__all__,
]
