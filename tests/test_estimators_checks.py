"""scikit-learn's own estimator checks, in full, for every estimator of estimators/."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from sklearn.base import clone  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from estimators import (  # noqa: E402
    CPNetworkClassifier,
    CPNetworkRegressor,
    HTNetworkClassifier,
    HTNetworkRegressor,
    ImagePatches,
    SequenceWindows,
    TTNetworkClassifier,
    TTNetworkRegressor,
)

# One network at its defaults (XLA-compiled epochs, members, early stopping: everything a
# default fit does); the others, as scikit-learn checks its own iterative estimators, with
# few iterations (20: unjitted, and still enough for check_classifiers_train and
# check_regressors_train). Their defaults' accuracy is tested in test_estimators.py and
# measured in benchmarks/. At the defaults the six networks' checks took 833 s of the
# suite's 1930 s (2 cores); at max_iter=20 a network's checks take about a third of that.
FEW = dict(max_iter=20)
ESTIMATORS = [
    TTNetworkClassifier(),
    TTNetworkRegressor(**FEW),
    CPNetworkClassifier(**FEW),
    CPNetworkRegressor(**FEW),
    HTNetworkClassifier(**FEW),
    HTNetworkRegressor(**FEW),
    ImagePatches(),
    SequenceWindows(),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check, monkeypatch):
    # sklearn skips its array-API checks unless this is set; set only for the check itself
    # (scipy is imported already, so scipy's own behaviour does not change)
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    name = getattr(check, "func", check).__name__
    if name.startswith("check_sample_weight_equivalence") and "dropout" in estimator.get_params():
        # integer weights == repeated samples holds for deterministic full-batch training
        # (float64 below 512 samples); the default position dropout draws one mask per row,
        # so a row repeated k times sees k masks where its weight-k twin sees one. The plateau
        # schedule's step cuts are decisions on the loss: rounding differences of the two equal
        # losses move a cut by an epoch (HT: 2e-6 relative in predict_proba), so the check
        # uses a constant step. One batch however many rows the repeated set has: with two
        # batches an iteration would be 5 passes where the weighted set's single batch
        # gives 10 (an iteration is at least 10 optimiser steps). 2 iterations (20 steps):
        # the equal losses of the two fits differ in rounding (summation order), and HT
        # amplifies that past rtol 1e-7 over more steps (HT regressor: 2e-6 at 5 iterations)
        estimator = clone(estimator).set_params(  # a copy: the instance is shared by checks
            dropout=0.0, batch_size=100_000, learning_rate_schedule="constant", max_iter=2
        )
    check(estimator)
