"""tensorexpr: the expressive power of tensor networks, on TensorLy."""

from . import decomposition
from ._backend import backend_context, get_backend, set_backend
from .certificates import (
    CertificateCheck,
    CertificateWarning,
    FeatureDiagnostic,
    WidthCertificate,
    certify_matricization_rank,
    verify_width_certificate,
)
from .construction import (
    ConstructionRanks,
    construct_generalized,
    construction_ranks,
    relu_sum_floor,
    relu_sum_projection,
)
from .cross import CrossResult, tt_cross
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
    "backend_context",
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
    "WidthCertificate",
    "CertificateCheck",
    "CertificateWarning",
    "FeatureDiagnostic",
    "certify_matricization_rank",
    "verify_width_certificate",
    "save_network",
    "load_network",
    "fit_generalized",
    "GeneralizedFit",
    "tt_cross",
    "CrossResult",
    "construct_generalized",
    "construction_ranks",
    "ConstructionRanks",
    "relu_sum_floor",
    "relu_sum_projection",
    *decomposition.__all__,
]
