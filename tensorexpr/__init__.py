"""tensorexpr: the expressive power of tensor networks, on TensorLy.

The public names are imported on first use (PEP 562 ``__getattr__``): ``import tensorexpr``
and the ``tensorexpr`` command's ``--version`` / ``--help`` load no numerical library, and
``te.TTNetwork`` loads tensorly, numpy and the module that defines it the first time it is
read. ``from tensorexpr import *`` and ``dir(tensorexpr)`` see every name of ``__all__``.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: where each public name lives (a new public name: add it here and to ``__all__``;
#: tests/test_cli.py checks that the two agree and that every name resolves)
_EXPORTS_BY_MODULE = {
    "_backend": ("set_backend", "get_backend", "backend_context"),
    "features": (
        "FeatureMap",
        "ReLUFeatures",
        "LinearFeatures",
        "TrigFeatures",
        "PolynomialFeatures",
        "make_feature_map",
        "feature_map_names",
    ),
    "operators": (
        "Operator",
        "get_operator",
        "register_operator",
        "operator_names",
        "generalized_outer",
    ),
    "trees": ("DimensionTree",),
    "ht_tensor": ("HTTensor",),
    "networks": ("TensorNetwork", "CPNetwork", "TTNetwork", "HTNetwork"),
    "grid": (
        "feature_matrix",
        "grid_tensor",
        "templates_from_points",
        "random_templates",
        "kmeans_templates",
    ),
    "analysis.expressivity": (
        "matricization",
        "matricization_rank",
        "MatricizationRank",
        "shallow_width_lower_bound",
        "ShallowWidthBound",
        "width_conversion_bounds",
        "WidthConversion",
    ),
    "analysis.certificates": (
        "WidthCertificate",
        "CertificateCheck",
        "CertificateWarning",
        "FeatureDiagnostic",
        "certify_matricization_rank",
        "verify_width_certificate",
    ),
    "network_io": ("save_network", "load_network"),
    "engine": ("fit_generalized", "GeneralizedFit"),
    "cross": ("tt_cross", "CrossResult"),
    "analysis.construction": (
        "construct_generalized",
        "construction_ranks",
        "ConstructionRanks",
        "relu_sum_floor",
        "relu_sum_projection",
    ),
    "decomposition": (
        "tt_svd",
        "tt_round",
        "TTSVD",
        "ht_svd",
        "ht_round",
        "tt_to_ht",
        "ht_to_tt",
        "HTSVD",
        "cp",
        "CPResult",
        "cp_rank",
        "CPRankResult",
        "CP",
        "tt_complete",
        "ht_complete",
        "cp_complete",
        "CompletionResult",
    ),
}
_EXPORTS = {name: module for module, names in _EXPORTS_BY_MODULE.items() for name in names}
#: subpackages and modules reachable as attributes (``te.cross.maxvol``) without an import
_SUBMODULES = ("analysis", "decomposition", "cross", "engine", "experiments", "cli")


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value  # later reads skip this function
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))


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
    "tt_svd",
    "tt_round",
    "TTSVD",
    "ht_svd",
    "ht_round",
    "tt_to_ht",
    "ht_to_tt",
    "HTSVD",
    "cp",
    "CPResult",
    "cp_rank",
    "CPRankResult",
    "CP",
    "tt_complete",
    "ht_complete",
    "cp_complete",
    "CompletionResult",
]
