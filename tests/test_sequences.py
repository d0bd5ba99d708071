"""Tests of estimators/_sequences.py: SequenceWindows against a loop over windows."""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from estimators import SequenceWindows, TTNetworkClassifier  # noqa: E402


def _windows_by_loop(signals, window, stride):
    """Slow path: (n, T, C) -> (n, d * window * C), window after window, (time, channel)."""
    n, T, C = signals.shape
    rows = []
    for sample in signals:
        parts = []
        start = 0
        while True:  # windows until every step is covered, zeros past the end
            part = np.zeros((window, C))
            chunk = sample[start : start + window]
            part[: len(chunk)] = chunk
            parts.append(part.ravel())
            if start + window >= T:
                break
            start += stride
        rows.append(np.concatenate(parts))
    return np.array(rows)


@pytest.mark.parametrize(
    "T, window, stride", [(40, 4, 2), (40, 4, 4), (41, 8, 3), (5, 5, 1), (3, 4, 2), (9, 4, 3)]
)
@pytest.mark.parametrize("channels", [1, 3])
def test_windows_match_loop(T, window, stride, channels):
    rng = np.random.default_rng(0)
    signals = rng.standard_normal((7, T, channels))
    expected = _windows_by_loop(signals, window, stride)
    three_d = SequenceWindows(window=window, stride=stride).fit(signals)
    assert three_d.n_windows_ == expected.shape[1] // (window * channels)
    assert three_d.window_dim_ == window * channels
    np.testing.assert_array_equal(three_d.transform(signals), expected)
    flat = signals.reshape(7, T * channels)
    windows = SequenceWindows(window=window, stride=stride, n_channels=channels)
    np.testing.assert_array_equal(windows.fit_transform(flat), expected)
    if channels == 1:  # 2-D rows are single-channel signals by default
        np.testing.assert_array_equal(
            SequenceWindows(window=window, stride=stride).fit_transform(flat), expected
        )


def test_windows_in_a_pipeline():
    # the class is which half of the signal holds a bump: windows with overlap see it
    rng = np.random.default_rng(0)
    n, T = 300, 24
    y = rng.integers(0, 2, n)
    X = 0.3 * rng.standard_normal((n, T))
    X[np.arange(n), np.where(y == 1, 18, 5)] += 3.0
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    model = make_pipeline(
        SequenceWindows(window=4, stride=2),
        TTNetworkClassifier(n_inputs=4, rank=4, max_iter=40, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(Xtr, ytr)
    assert model[-1].d_ == 11
    assert model.score(Xte, yte) >= 0.9


@pytest.mark.parametrize(
    "params, X, error, match",
    [
        (dict(window=0), np.ones((2, 8)), ValueError, "window must be a positive int"),
        (dict(window=2.0), np.ones((2, 8)), TypeError, "window must be a positive int"),
        (dict(stride=0), np.ones((2, 8)), ValueError, "stride must be a positive int"),
        (dict(n_channels=3), np.ones((2, 8)), ValueError, "n_channels=3 must divide"),
        (dict(n_channels=2), np.ones((2, 8, 3)), ValueError, "3 channels"),
        (dict(), np.ones((2, 8, 3, 1)), ValueError, "X must be 2-D"),
    ],
)
def test_windows_errors(params, X, error, match):
    with pytest.raises(error, match=match):
        SequenceWindows(**params).fit(X)


def test_transform_checks_the_fitted_shape():
    windows = SequenceWindows().fit(np.ones((2, 8)))
    with pytest.raises(ValueError, match="features"):
        windows.transform(np.ones((2, 9)))
