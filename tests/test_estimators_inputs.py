"""Inputs as they come: any units (fitted scaling), aeon's layout, tables, no hand-set n_inputs."""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from estimators import (  # noqa: E402
    CPNetworkClassifier,
    HTNetworkRegressor,
    SequenceWindows,
    TTNetworkClassifier,
    TTNetworkRegressor,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _series(n=60, C=2, T=48, seed=0):
    """aeon-like (n, C, T): the class is the sign of a bump's slope in channel 0."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    t = np.linspace(0, 1, T)
    X = 0.2 * rng.standard_normal((n, C, T))
    X[:, 0] += np.where(y[:, None] == 1, t, 1 - t) * 2.0
    return X, y


@pytest.mark.parametrize(
    "X_shape, n_inputs, scale, expected",
    [
        ((30, 8, 3), None, "auto", "shared"),  # 3-D: a sequence
        ((30, 8, 1), None, "auto", "shared"),  # 3-D with one value: still a sequence
        ((30, 8), None, "auto", "positions"),  # 2-D columns: a table
        ((30, 8), 2, "auto", "shared"),  # 2-D split into positions of 2 values
        ((30, 8), None, "shared", "shared"),
        ((30, 8, 3), None, "positions", "positions"),
        ((30, 8), None, None, None),
    ],
)
def test_scale_statistics_match_a_direct_computation(X_shape, n_inputs, scale, expected):
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 7, size=X_shape) * np.arange(1, X_shape[1] + 1).reshape(
        (1, -1) + (1,) * (len(X_shape) - 2)
    )
    y = rng.integers(0, 2, X_shape[0])
    clf = TTNetworkClassifier(rank=2, n_features=3, max_iter=1, n_inputs=n_inputs, scale=scale)
    clf.fit(X, y)
    assert clf.scale_ == expected
    seq = X.reshape(X.shape[0], clf.d_, clf.n_inputs_)
    if expected is None:
        low, span = np.zeros(seq.shape[1:]), np.ones(seq.shape[1:])
    elif expected == "positions":  # columns to [-1, 1]
        low = (seq.min(axis=0) + seq.max(axis=0)) / 2
        span = np.ptp(seq, axis=0) / 2
    else:
        low = np.broadcast_to(seq.min(axis=(0, 1)), seq.shape[1:])
        span = np.broadcast_to(seq.max(axis=(0, 1)), seq.shape[1:]) - low
    np.testing.assert_allclose(clf.input_offset_, low)
    np.testing.assert_allclose(clf.input_scale_, span)
    np.testing.assert_allclose(clf.standardize(X), (seq - low) / span)


def test_zero_weight_rows_do_not_set_the_range():
    X, y = make_moons(80, noise=0.1, random_state=0)
    X = X.copy()
    X[0] = [1e6, -1e6]
    w = np.ones(80)
    w[0] = 0.0
    clf = TTNetworkClassifier(rank=2, max_iter=1).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(clf.input_scale_[:, 0], np.ptp(X[1:], axis=0) / 2)


def test_an_affine_change_of_units_changes_nothing():
    X, y = _series()
    base = make_pipeline(SequenceWindows(), TTNetworkClassifier(max_iter=8, random_state=0))
    moved = clone(base)
    base.fit(X, y)
    moved.fit(1000.0 * X + 50.0, y)
    np.testing.assert_allclose(
        moved.decision_function(1000.0 * X + 50.0), base.decision_function(X), rtol=1e-6, atol=1e-9
    )


def test_raw_units_of_any_size_train():
    # make_moons in units of 1e9 around 1e12: scores stay finite, the moons are learned
    X, y = make_moons(300, noise=0.1, random_state=0)
    clf = TTNetworkClassifier(random_state=0).fit(1e9 * X + 1e12, y)
    assert np.isfinite(clf.loss_curve_).all() and clf.loss_curve_[0] < 10
    # as good as the same network on the moons in their own units, left unscaled
    own_units = TTNetworkClassifier(random_state=0, scale=None).fit(X, y).score(X, y)
    assert clf.score(1e9 * X + 1e12, y) >= max(0.85, own_units - 0.02)


def test_regressor_targets_in_any_units():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(120, 4))
    target = X[:, 0] - 2 * X[:, 2] + X[:, 1] * X[:, 3]
    small = TTNetworkRegressor(rank=4, max_iter=20, random_state=0).fit(X, target)
    big = TTNetworkRegressor(rank=4, max_iter=20, random_state=0).fit(X, 1e6 * target - 3e7)
    assert small.y_mean_ == pytest.approx(target.mean())
    assert small.y_scale_ == pytest.approx(target.std())
    np.testing.assert_allclose(big.predict(X), 1e6 * small.predict(X) - 3e7, rtol=1e-6)
    # network_ learns the standardized target; predict maps it back
    ht = HTNetworkRegressor(rank=3, max_iter=3, random_state=0).fit(X, 1e6 * target)
    score = np.asarray(ht.network_(ht.standardize(X)))
    np.testing.assert_allclose(ht.y_mean_ + ht.y_scale_ * score, ht.predict(X), rtol=1e-6)


def test_aeon_layout_through_the_pipeline_needs_no_n_inputs():
    X, y = _series(C=3, T=60)
    model = make_pipeline(SequenceWindows(), CPNetworkClassifier(max_iter=30, random_state=0))
    model.fit(X, y)
    windows = model[0]
    assert (windows.window_, windows.stride_, windows.n_windows_) == (6, 3, 19)
    assert (model[-1].d_, model[-1].n_inputs_) == (19, 18)
    assert model.score(X, y) >= 0.9
    # the same series as a list of (channels, T_i) arrays of unequal length
    ragged = [x[:, : 40 + i % 20] for i, x in enumerate(X)]
    assert model.fit(ragged, y).predict(ragged).shape == (len(y),)


def test_aeon_layout_straight_into_an_estimator_warns():
    X, y = _series(C=1, T=30)
    with pytest.warns(UserWarning, match="SequenceWindows"):
        TTNetworkClassifier(rank=2, max_iter=1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no warning for real sequences
        warnings.simplefilter("ignore", ConvergenceWarning)
        TTNetworkClassifier(rank=2, max_iter=1).fit(X.transpose(0, 2, 1), y)


def test_bad_scale_is_refused_by_name():
    X, y = make_moons(20, random_state=0)
    with pytest.raises(ValueError, match="scale"):
        TTNetworkClassifier(scale="minmax").fit(X, y)
