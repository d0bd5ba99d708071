"""Tensor networks (TT, CP, HT) as scikit-learn estimators, trained by TensorFlow.

Use them like any scikit-learn model: in a Pipeline (after :class:`ImagePatches` for
images), under GridSearchCV, pickled. ``estimator.network_`` hands the trained model to
the analysis side of :mod:`tensorexpr`.
"""

from __future__ import annotations

from ._networks import (
    CPNetworkClassifier,
    CPNetworkRegressor,
    HTNetworkClassifier,
    HTNetworkRegressor,
    TTNetworkClassifier,
    TTNetworkRegressor,
)
from ._patches import ImagePatches

__all__ = [
    "TTNetworkClassifier",
    "TTNetworkRegressor",
    "CPNetworkClassifier",
    "CPNetworkRegressor",
    "HTNetworkClassifier",
    "HTNetworkRegressor",
    "ImagePatches",
]
