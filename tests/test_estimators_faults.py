"""The estimators under faults: interrupts, failed fits, extreme inputs, sizes, classes.

A fit is all or nothing: whatever stops it (a KeyboardInterrupt, a loss that became NaN, a bad
argument, a size refusal) leaves the estimator as it was before the call (docs/errors.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402

from estimators import (  # noqa: E402
    CPNetworkClassifier,
    HTNetworkClassifier,
    TTNetworkClassifier,
    TTNetworkRegressor,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def _quiet_fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


# --- a real SIGINT to a subprocess in the middle of a refit ------------------------------------
_CHILD = textwrap.dedent(
    """
    import os, signal, sys, warnings
    # Ctrl-C raises KeyboardInterrupt even where the runner's shell started the suite in the
    # background (which makes SIGINT ignored, and the child inherits that)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import numpy as np
    warnings.simplefilter("ignore")
    from sklearn.datasets import load_digits
    from estimators import TTNetworkClassifier
    X, y = load_digits(return_X_y=True)
    X = X.reshape(len(X), 16, 4)
    clf = TTNetworkClassifier(rank=4, n_features=4, max_iter=2, random_state=0).fit(X, y)
    before = clf.decision_function(X[:50])
    n_iter, curve = clf.n_iter_, list(clf.loss_curve_)
    clf.set_params(max_iter=100000, n_iter_no_change=100000, random_state=1)
    print("REFIT", flush=True)
    try:
        clf.fit(X, y)
    except KeyboardInterrupt:
        after = clf.decision_function(X[:50])
        assert np.array_equal(after, before), "interrupted refit changed the model"
        assert clf.n_iter_ == n_iter and clf.loss_curve_ == curve, "attributes changed"
        assert clf.max_iter == 100000  # parameters are the user's, untouched
        print("RESTORED", flush=True)
        sys.exit(0)
    print("NOT INTERRUPTED", flush=True)
    sys.exit(1)
    """
)


def test_sigint_during_a_refit_keeps_the_previous_model():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert child.stdout.readline().strip() == "REFIT"
        # let a few epochs run, then interrupt as Ctrl-C does
        import time

        time.sleep(3.0)
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, out
    assert "RESTORED" in out


def test_interrupt_of_a_first_fit_leaves_it_unfitted(iris, monkeypatch):
    X, y = iris
    clf = TTNetworkClassifier(max_iter=50, random_state=0)
    calls = []

    def interrupted(self, *args, **kwargs):  # the real epoch, then Ctrl-C at the third
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    from estimators._base import NetworkEstimator

    original = NetworkEstimator._run_epoch
    monkeypatch.setattr(NetworkEstimator, "_run_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert len(calls) == 3
    with pytest.raises(NotFittedError):
        clf.predict(X)
    assert not hasattr(clf, "n_iter_") and not hasattr(clf, "classes_")


def test_a_fit_that_raises_keeps_the_previous_model(iris):
    X, y = iris
    clf = _quiet_fit(TTNetworkClassifier(max_iter=5, random_state=0), X, y)
    before = clf.predict_proba(X)
    clf.set_params(rank=10**7)  # refused before allocating
    with pytest.raises(ValueError, match="lower rank or n_features"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    with pytest.raises(ValueError, match="holds labels"):  # a bad y in partial_fit
        clf.set_params(rank=24).partial_fit(X, np.where(y == 2, 7, y))
    np.testing.assert_array_equal(clf.predict_proba(X), before)


# --- sizes are checked before allocating ----------------------------------------------------
@pytest.mark.parametrize(
    "est",
    [
        TTNetworkClassifier(rank=10**6),
        HTNetworkClassifier(rank=10**5),
        CPNetworkClassifier(rank=10**12),
        TTNetworkClassifier(n_features=10**12),
    ],
    ids=["tt-rank", "ht-rank", "cp-rank", "n_features"],
)
def test_huge_networks_are_refused_by_name(est, iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"GiB.*lower rank or n_features"):
        est.fit(X, y)
    with pytest.raises(NotFittedError):
        est.predict(X)


# --- probabilities are finite at any input scale --------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("factor", [1e10, 1e39, 1e100, 1e300])
def test_probabilities_are_finite_for_extreme_inputs(iris, dtype, factor):
    X, y = iris
    clf = _quiet_fit(TTNetworkClassifier(max_iter=10, dtype=dtype, random_state=0), X, y)
    proba = clf.predict_proba(X * factor)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # the most probable class is the predicted class, also where exp(L) overflows
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X * factor))
    assert not np.isnan(clf.decision_function(X * factor)).any()


def test_binary_probabilities_are_finite_for_extreme_inputs(iris):
    X, y = iris
    keep = y < 2
    clf = _quiet_fit(TTNetworkClassifier(max_iter=10, random_state=0), X[keep], y[keep])
    proba = clf.predict_proba(X[keep] * 1e200)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_log_scale_softmax_matches_the_direct_softmax(iris):
    X, y = iris
    clf = _quiet_fit(TTNetworkClassifier(max_iter=10, random_state=0), X, y)
    scores = clf.decision_function(X)  # finite here: the direct formula is the slow path
    z = np.exp(scores - scores.max(axis=1, keepdims=True))
    np.testing.assert_allclose(clf.predict_proba(X), z / z.sum(axis=1, keepdims=True), rtol=1e-10)


# --- partial_fit keeps its classes ----------------------------------------------------------
def test_partial_fit_refuses_other_classes(iris):
    X, y = iris
    clf = TTNetworkClassifier(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"classes=\[0, 1, 2, 3\] differs"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])
    clf.partial_fit(X, y, classes=[2, 1, 0])  # the same classes in another order
    assert clf.n_iter_ == 2


def test_regressor_fit_failure_is_all_or_nothing():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5))
    reg = _quiet_fit(TTNetworkRegressor(max_iter=5, random_state=0), X, X.sum(axis=1))
    before = reg.predict(X)
    with pytest.raises(ValueError):
        reg.fit(X, np.full(60, np.nan))
    np.testing.assert_array_equal(reg.predict(X), before)
