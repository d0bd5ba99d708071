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
        while True:  # windows until every step is covered, the last step past the end
            part = np.repeat(sample[-1:], window, axis=0)
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
    d = expected.shape[1] // (window * channels)
    three_d = SequenceWindows(window=window, stride=stride, layout="channels_last").fit(signals)
    assert three_d.n_windows_ == d
    assert three_d.window_dim_ == window * channels
    np.testing.assert_array_equal(three_d.transform(signals), expected.reshape(7, d, -1))
    # aeon / sktime layout: (n, channels, time)
    first = SequenceWindows(window=window, stride=stride, layout="channels_first")
    np.testing.assert_array_equal(
        first.fit_transform(signals.transpose(0, 2, 1)), expected.reshape(7, d, -1)
    )
    flat = signals.reshape(7, T * channels)
    windows = SequenceWindows(window=window, stride=stride, n_channels=channels, flatten=True)
    np.testing.assert_array_equal(windows.fit_transform(flat), expected)
    if channels == 1:  # 2-D rows are single-channel signals by default
        np.testing.assert_array_equal(
            SequenceWindows(window=window, stride=stride, flatten=True).fit_transform(flat),
            expected,
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
        TTNetworkClassifier(rank=4, max_iter=40, random_state=0),  # no n_inputs: 3-D windows
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(Xtr, ytr)
    assert model[-1].d_ == 11
    assert model.score(Xte, yte) >= 0.9


@pytest.mark.parametrize(
    "params, X, error, match",
    [
        (dict(window=0), np.ones((2, 8)), ValueError, "window must be 'auto' or an int >= 1"),
        (dict(window=2.0), np.ones((2, 8)), TypeError, "window must be 'auto' or an int >= 1"),
        (dict(stride=0), np.ones((2, 8)), ValueError, "stride must be 'auto' or an int >= 1"),
        (dict(n_channels=3), np.ones((2, 8)), ValueError, "n_channels=3 must divide"),
        (dict(n_channels=2), np.ones((2, 8, 3)), ValueError, "3 channels"),
        (dict(n_channels=2), np.ones((2, 3, 8)), ValueError, "3 channels"),
        (dict(), np.ones((2, 8, 3, 1)), ValueError, "X must be 2-D"),
        (dict(), np.ones((2, 5, 5)), ValueError, "layout is ambiguous"),
        (dict(layout="time_first"), np.ones((2, 8)), ValueError, "layout must be one of"),
        (dict(flatten="yes"), np.ones((2, 8)), TypeError, "flatten must be True or False"),
        (dict(), [np.ones((2, 8)), np.ones((3, 9))], ValueError, "different numbers of"),
        (dict(), [np.ones((2, 8)), np.ones(9)], ValueError, "1-D series"),
        (dict(), [np.ones(8), np.full(4, np.nan)], ValueError, r"X\[1\] holds NaN"),
    ],
)
def test_windows_errors(params, X, error, match):
    with pytest.raises(error, match=match):
        SequenceWindows(**params).fit(X)


def test_transform_checks_the_fitted_shape():
    windows = SequenceWindows().fit(np.ones((2, 8)))
    with pytest.raises(ValueError, match="features"):
        windows.transform(np.ones((2, 9)))


def test_auto_window_from_the_length():
    # about 20 windows of 2 strides whatever T: short series keep windows of 4 (MNIST-1D)
    for T, window, stride in [(40, 4, 2), (150, 16, 8), (24, 4, 2), (640, 64, 32), (7, 2, 1)]:
        fitted = SequenceWindows().fit(np.zeros((2, T)))
        assert (fitted.window_, fitted.stride_) == (window, stride)
        assert fitted.n_windows_ == -(-max(T - window, 0) // stride) + 1 <= 20
    assert SequenceWindows(window=6).fit(np.zeros((2, 30))).stride_ == 3
    assert SequenceWindows(stride=5).fit(np.zeros((2, 30))).window_ == 10


def test_layouts_are_read_as_series_never_as_channels():
    # aeon's (n, 1, 150): one channel of 150 steps, not 150 channels of one step
    rng = np.random.default_rng(1)
    aeon = rng.standard_normal((4, 1, 150))
    auto = SequenceWindows().fit(aeon)
    assert (auto.length_, auto.n_channels_, auto.n_windows_) == (150, 1, 18)
    np.testing.assert_array_equal(
        auto.transform(aeon), SequenceWindows(layout="channels_last").fit_transform(aeon[:, 0])
    )
    multi = rng.standard_normal((4, 6, 100))  # BasicMotions-like
    np.testing.assert_array_equal(
        SequenceWindows().fit_transform(multi),
        SequenceWindows(layout="channels_last").fit_transform(multi.transpose(0, 2, 1)),
    )


def test_unequal_lengths_are_resampled_to_the_longest():
    rng = np.random.default_rng(2)
    series = [rng.standard_normal((2, T)) for T in (30, 45, 60)]  # aeon: (channels, T_i)
    windows = SequenceWindows(window=6, stride=3).fit(series)
    assert windows.length_ == 60
    out = windows.transform(series)
    # slow path: np.interp of each channel onto 60 evenly spaced points, then the loop
    stretched = np.stack(
        [
            np.stack(
                [np.interp(np.linspace(0, 1, 60), np.linspace(0, 1, s.shape[1]), c) for c in s],
                axis=1,
            )
            for s in series
        ]
    )
    expected = _windows_by_loop(stretched, 6, 3).reshape(out.shape)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)
    one_channel = [rng.standard_normal(T) for T in (10, 20)]
    assert SequenceWindows().fit_transform(one_channel).shape == (2, 19, 2)
    with pytest.raises(ValueError, match="fitted on 60 steps"):
        windows.transform(np.zeros((2, 2, 50)))
