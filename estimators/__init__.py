"""Tensor networks (TT, CP, HT) as scikit-learn estimators, trained by TensorFlow.

Use them like any scikit-learn model: in a Pipeline (after :class:`ImagePatches` for
images, :class:`SequenceWindows` for signals and time series), under GridSearchCV,
pickled. ``estimator.network_`` hands the trained model to the analysis side of
:mod:`tensorexpr`.
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
from ._sequences import SequenceWindows

__all__ = [
    "TTNetworkClassifier",
    "TTNetworkRegressor",
    "CPNetworkClassifier",
    "CPNetworkRegressor",
    "HTNetworkClassifier",
    "HTNetworkRegressor",
    "ImagePatches",
    "SequenceWindows",
]
