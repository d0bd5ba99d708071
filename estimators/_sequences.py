"""Signals and time series to sequences of windows, the inputs of tensor networks."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import validate_data

__all__ = ["SequenceWindows"]


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def n_windows(T: int, window: int, stride: int) -> int:
    """Windows needed to cover T time steps: ``ceil(max(T - window, 0) / stride) + 1``."""
    return -(-max(T - window, 0) // stride) + 1


def sequence_windows(signals: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Windows of ``window`` time steps every ``stride`` steps: (n, T, C) -> (n, d, window * C).

    ``d = n_windows(T, window, stride)``; each window is flattened as (time, channel).
    Signals not covered exactly are zero-padded at the end (as :class:`ImagePatches`
    pads images).

    Parameters
    ----------
    signals : ndarray of shape (n_samples, T, C)
    window, stride : int
        Length of a window and step between window starts, in time steps.

    Returns
    -------
    ndarray of shape (n_samples, d, window * C)
    """
    n, T, C = signals.shape
    d = n_windows(T, window, stride)
    covered = (d - 1) * stride + window
    if covered > T:
        signals = np.concatenate([signals, np.zeros((n, covered - T, C), signals.dtype)], axis=1)
    # index (d, window) into the time axis: one gather, no Python loop over windows
    steps = stride * np.arange(d)[:, None] + np.arange(window)[None, :]
    return signals[:, steps].reshape(n, d, window * C)


class SequenceWindows(TransformerMixin, BaseEstimator):
    """Cut 1-D signals or multichannel time series into windows, one window per position.

    A tensor network reads a sequence of d positions with n values each; a signal of T
    time steps (and C channels) becomes ``d = ceil(max(T - window, 0) / stride) + 1``
    windows of ``window`` steps, window k covering steps ``k * stride, ...,
    k * stride + window - 1`` (zero-padded at the end where a signal is not covered
    exactly: with T = 40, window 4 and stride 2, d = 19 and no padding). The output is
    2-D, window after window, each flattened as (time, channel), like
    :class:`ImagePatches`: chain it into
    the estimators with ``n_inputs = window * C`` (``window_dim_`` after fit), which
    split each row back into d positions; 2-D output keeps every scikit-learn step in
    between working. Stateless: ``fit`` only checks.

    Overlapping windows (``stride < window``) give every position some context of its
    neighbours; on MNIST-1D windows of 4 with stride 2 (d = 19) trained better than
    single values (d = 40) or disjoint windows (docs/estimators.md).

    Parameters
    ----------
    window : int, default 4
        Time steps per window.
    stride : int, default 2
        Time steps between the starts of consecutive windows.
    n_channels : int, optional
        Channels C when X is flat 2-D ``(n_samples, T * C)`` with the channels of a
        time step next to each other. Without it a 2-D X is C = 1 signal per row;
        3-D X is ``(n_samples, T, C)``.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns of X (time steps for 3-D input) seen in fit.
    n_windows_ : int
        Number of windows d per sample.
    window_dim_ : int
        Values per window, ``window * C`` (``n_inputs`` of the next estimator).

    See Also
    --------
    ImagePatches : The same for images.
    TTNetworkClassifier : Consumes the window sequences (``n_inputs=window_dim_``).

    Examples
    --------
    >>> import numpy as np
    >>> from estimators import SequenceWindows
    >>> X = np.arange(2 * 8, dtype=float).reshape(2, 8)  # two signals of 8 steps
    >>> windows = SequenceWindows(window=4, stride=2).fit(X)
    >>> windows.n_windows_, windows.window_dim_
    (3, 4)
    >>> windows.transform(X)[0]
    array([0., 1., 2., 3., 2., 3., 4., 5., 4., 5., 6., 7.])
    """

    def __init__(self, window=4, stride=2, n_channels=None):
        self.window = window
        self.stride = stride
        self.n_channels = n_channels

    def _signals(self, X) -> np.ndarray:
        """(n, T, C) view of X, after checking the parameters against its shape."""
        _positive_int(self.window, "window")
        _positive_int(self.stride, "stride")
        if X.ndim == 2:
            channels = self.n_channels
            channels = 1 if channels is None else _positive_int(channels, "n_channels")
            if X.shape[1] % channels:
                raise ValueError(
                    f"n_channels={channels} must divide the number of features of X "
                    f"({X.shape[1]}): a row holds T time steps of n_channels values each"
                )
            signals = X.reshape(X.shape[0], X.shape[1] // channels, channels)
        elif X.ndim == 3:
            if self.n_channels is not None and self.n_channels != X.shape[2]:
                raise ValueError(
                    f"X has {X.shape[2]} channels (last axis) but n_channels={self.n_channels}"
                )
            signals = X
        else:
            raise ValueError(
                "X must be 2-D (n_samples, T * n_channels) or 3-D (n_samples, T, n_channels), "
                f"got an array of shape {X.shape}"
            )
        return signals

    def fit(self, X, y=None):
        """Check the parameters and X; learns nothing.

        Parameters
        ----------
        X : array-like of shape (n_samples, T * n_channels) or (n_samples, T, n_channels)
        y : ignored

        Returns
        -------
        self
        """
        X = validate_data(self, X, allow_nd=True)
        signals = self._signals(X)
        self.n_windows_ = n_windows(signals.shape[1], self.window, self.stride)
        self.window_dim_ = self.window * signals.shape[2]
        return self

    def transform(self, X):
        """Window sequences, flattened: (n_samples, n_windows * window_dim).

        Parameters
        ----------
        X : array-like of shape (n_samples, T * n_channels) or (n_samples, T, n_channels)

        Returns
        -------
        ndarray of shape (n_samples, n_windows * window_dim)
        """
        X = validate_data(self, X, allow_nd=True, reset=False)
        windows = sequence_windows(self._signals(X), self.window, self.stride)
        return windows.reshape(X.shape[0], -1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.three_d_array = True
        return tags
