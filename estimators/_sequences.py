"""Signals and time series to sequences of windows, the inputs of tensor networks."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._constraints import Boolean, Int, NoneValue, Options, validate_params

__all__ = ["SequenceWindows"]


#: window="auto": windows are cut so that a series becomes about this many positions
#: (stride = ceil(T / AUTO_POSITIONS), window = AUTO_WINDOW_STRIDES * stride); the sweep
#: across series sets behind it is in docs/estimators.md
AUTO_POSITIONS = 20
AUTO_WINDOW_STRIDES = 2
LAYOUTS = ("auto", "channels_first", "channels_last")


def auto_window(T: int, window, stride) -> tuple[int, int]:
    """``(window, stride)`` for series of T steps, resolving "auto" (see SequenceWindows)."""
    if stride == "auto" and window == "auto":
        stride = max(1, -(-T // AUTO_POSITIONS))
        return AUTO_WINDOW_STRIDES * stride, stride
    if stride == "auto":
        return window, max(1, window // AUTO_WINDOW_STRIDES)
    if window == "auto":
        return AUTO_WINDOW_STRIDES * stride, stride
    return window, stride


def resample(series: np.ndarray, length: int) -> np.ndarray:
    """One series (T, C) linearly interpolated to ``length`` steps (same start and end)."""
    T = series.shape[0]
    if T == length:
        return series
    if T == 1:
        return np.repeat(series, length, axis=0)
    old = np.linspace(0.0, 1.0, T)
    new = np.linspace(0.0, 1.0, length)
    return np.stack([np.interp(new, old, series[:, c]) for c in range(series.shape[1])], axis=1)


def n_windows(T: int, window: int, stride: int) -> int:
    """Windows needed to cover T time steps: ``ceil(max(T - window, 0) / stride) + 1``."""
    return -(-max(T - window, 0) // stride) + 1


def sequence_windows(signals: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Windows of ``window`` time steps every ``stride`` steps: (n, T, C) -> (n, d, window * C).

    ``d = n_windows(T, window, stride)``; each window is flattened as (time, channel).
    Signals not covered exactly are padded at the end with their last step (zeros would
    depend on the units: ``a * X + b`` must give the same windows up to ``a`` and ``b``).

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
    if covered > T:  # repeat the last step: padding that follows any change of units
        pad = np.repeat(signals[:, -1:], covered - T, axis=1)
        signals = np.concatenate([signals, pad], axis=1)
    # index (d, window) into the time axis: one gather, no Python loop over windows
    steps = stride * np.arange(d)[:, None] + np.arange(window)[None, :]
    return signals[:, steps].reshape(n, d, window * C)


class SequenceWindows(TransformerMixin, BaseEstimator):
    """Cut 1-D signals or multichannel time series into windows, one window per position.

    A tensor network reads a sequence of d positions with n values each; a signal of T
    time steps (and C channels) becomes ``d = ceil(max(T - window, 0) / stride) + 1``
    windows of ``window`` steps, window k covering steps ``k * stride, ...,
    k * stride + window - 1`` (padded at the end with the last step where a signal is not
    covered exactly: with T = 40, window 4 and stride 2, d = 19 and no padding). The output is
    3-D ``(n_samples, d, window * C)``, each window flattened as (time, channel), which the
    estimators read as d positions of ``window * C`` values with no ``n_inputs`` to set
    (``flatten=True`` gives the 2-D ``(n_samples, d * window * C)`` for steps that need
    2-D input; then chain with ``n_inputs = window_dim_``).

    Input layouts (never guessed silently wrong, see ``layout``):

    - 2-D ``(n_samples, T)``: one signal per row (or ``T * n_channels`` values with the
      channels of a time step next to each other, with ``n_channels``);
    - 3-D: aeon's and sktime's ``(n_samples, n_channels, T)`` or ``(n_samples, T,
      n_channels)``;
    - a list of 2-D arrays ``(n_channels, T_i)`` (aeon's unequal-length collections) or
      1-D arrays ``(T_i,)``: every series is resampled by linear interpolation to the
      longest length seen in fit (``length_``), so that all have the same windows.

    ``window="auto"`` (with ``stride="auto"``) cuts a series of T steps into about 20
    windows: ``stride = ceil(T / 20)``, ``window = 2 * stride`` (T = 40: windows of 4,
    stride 2, 19 positions; T = 150: windows of 16, stride 8, 18 positions), so long
    series give short networks; the sweep behind it is in docs/estimators.md.

    Parameters
    ----------
    window : int or "auto", default "auto"
        Time steps per window; "auto" as above (``2 * stride`` when stride is given).
    stride : int or "auto", default "auto"
        Time steps between the starts of consecutive windows; "auto" as above
        (``window // 2`` when window is given).
    n_channels : int, optional
        Channels C when X is flat 2-D ``(n_samples, T * C)`` with the channels of a
        time step next to each other. Without it a 2-D X is C = 1 signal per row.
    layout : {"auto", "channels_first", "channels_last"}, default "auto"
        How 3-D X (and the arrays of a list) are laid out. ``"channels_first"``:
        ``(n_samples, n_channels, T)`` as aeon and sktime store series;
        ``"channels_last"``: ``(n_samples, T, n_channels)``; ``"auto"``: the shorter of the
        two axes is the channels (series have more time steps than channels), and equal
        lengths raise an error asking for ``layout``.
    flatten : bool, default False
        Return 2-D ``(n_samples, d * window * C)`` instead of 3-D.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns of X (for 2-D input).
    window_, stride_ : int
        The window and stride used ("auto" resolved).
    length_ : int
        Time steps T per series (after resampling, for lists).
    n_channels_ : int
        Channels C.
    n_windows_ : int
        Number of windows d per sample.
    window_dim_ : int
        Values per window, ``window_ * C`` (``n_inputs`` of the next estimator).

    See Also
    --------
    ImagePatches : The same for images.
    TTNetworkClassifier : Consumes the window sequences.

    Examples
    --------
    >>> import numpy as np
    >>> from estimators import SequenceWindows
    >>> X = np.arange(2 * 8, dtype=float).reshape(2, 8)  # two signals of 8 steps
    >>> windows = SequenceWindows(window=4, stride=2).fit(X)
    >>> windows.n_windows_, windows.window_dim_
    (3, 4)
    >>> windows.transform(X)[0]
    array([[0., 1., 2., 3.],
           [2., 3., 4., 5.],
           [4., 5., 6., 7.]])
    >>> aeon_like = np.zeros((5, 3, 100))  # 5 series, 3 channels, 100 steps
    >>> SequenceWindows().fit_transform(aeon_like).shape  # 19 windows of 10 steps x 3
    (5, 19, 30)
    """

    def __init__(self, window="auto", stride="auto", n_channels=None, layout="auto", flatten=False):
        self.window = window
        self.stride = stride
        self.n_channels = n_channels
        self.layout = layout
        self.flatten = flatten

    #: what every parameter accepts (checked at fit and transform by :func:`validate_params`)
    _parameter_constraints = {
        "window": [Options(["auto"]), Int(1)],
        "stride": [Options(["auto"]), Int(1)],
        "n_channels": [NoneValue(), Int(1)],
        "layout": [Options(LAYOUTS)],
        "flatten": [Boolean()],
    }

    def _check_params(self):
        validate_params(self, self._parameter_constraints)

    def _orient(self, array: np.ndarray, what: str) -> np.ndarray:
        """A (a, b) block of one series (or a (n, a, b) batch) as time x channels."""
        a, b = array.shape[-2:]
        layout = self.layout
        if layout == "auto":
            if a == b:
                raise ValueError(
                    f"{what} has as many channels as time steps ({a} x {b}): the layout is "
                    "ambiguous; pass layout='channels_first' (aeon, sktime: (n, channels, "
                    "time)) or layout='channels_last' ((n, time, channels))"
                )
            layout = "channels_first" if a < b else "channels_last"
        if self.n_channels is not None:
            channels = a if layout == "channels_first" else b
            if channels != self.n_channels:
                raise ValueError(
                    f"{what} has {channels} channels ({layout} layout) but "
                    f"n_channels={self.n_channels}"
                )
        return np.swapaxes(array, -1, -2) if layout == "channels_first" else array

    def _signals(self, X):
        """(n, T, C) float array of X (an array or a list of series) before resampling."""
        if (
            isinstance(X, (list, tuple))
            and len(X)
            and all(hasattr(x, "shape") or isinstance(x, (list, tuple)) for x in X)
        ):
            series = [np.asarray(x, dtype=np.float64) for x in X]
            if not any(s.ndim == 2 for s in series) and all(s.ndim == 1 for s in series):
                series = [s[:, None] for s in series]
                if self.n_channels not in (None, 1):
                    raise ValueError(
                        f"X is a list of 1-D series (one channel) but n_channels={self.n_channels}"
                    )
            elif all(s.ndim == 2 for s in series):
                series = [self._orient(s, f"X[{i}]") for i, s in enumerate(series)]
            else:
                raise ValueError(
                    "X as a list must hold 1-D series (T_i,) or 2-D series "
                    "(n_channels, T_i), one per sample; got arrays of dimensions "
                    f"{sorted({s.ndim for s in series})}"
                )
            channels = {s.shape[1] for s in series}
            if len(channels) > 1:
                raise ValueError(
                    f"the series of X have different numbers of channels: {sorted(channels)}"
                )
            for i, s in enumerate(series):
                if s.shape[0] == 0:
                    raise ValueError(f"X[{i}] is an empty series (0 time steps)")
                if not np.isfinite(s).all():
                    raise ValueError(f"X[{i}] holds NaN or infinite values")
            return series
        X = validate_data(self, X, allow_nd=True, reset=not hasattr(self, "length_"))
        if X.ndim == 2:
            channels = 1 if self.n_channels is None else self.n_channels
            if X.shape[1] % channels:
                raise ValueError(
                    f"n_channels={channels} must divide the number of features of X "
                    f"({X.shape[1]}): a row holds T time steps of n_channels values each"
                )
            return X.reshape(X.shape[0], X.shape[1] // channels, channels)
        if X.ndim == 3:
            return self._orient(X, f"X of shape {X.shape}")
        raise ValueError(
            "X must be 2-D (n_samples, T), 3-D (n_samples, n_channels, T) or (n_samples, T, "
            f"n_channels), or a list of series; got an array of shape {X.shape}"
        )

    @staticmethod
    def _length_of(signals) -> int:
        if isinstance(signals, list):
            return max(s.shape[0] for s in signals)
        return signals.shape[1]

    def _equal_length(self, signals) -> np.ndarray:
        if isinstance(signals, list):
            return np.stack([resample(s, self.length_) for s in signals])
        if signals.shape[1] != self.length_ or signals.shape[2] != self.n_channels_:
            raise ValueError(
                f"X holds series of {signals.shape[1]} steps and {signals.shape[2]} channels, "
                f"but {type(self).__name__} was fitted on {self.length_} steps and "
                f"{self.n_channels_} channels (pass a list of series to resample)"
            )
        return signals

    def fit(self, X, y=None):
        """Check the parameters and X; resolve "auto" from the length of the series.

        Parameters
        ----------
        X : array-like of shape (n_samples, T), (n_samples, n_channels, T) or
            (n_samples, T, n_channels), or a list of series
        y : ignored

        Returns
        -------
        self
        """
        self._check_params()
        for name in ("length_", "n_features_in_"):
            if hasattr(self, name):
                delattr(self, name)
        signals = self._signals(X)
        self.length_ = self._length_of(signals)
        self.n_channels_ = signals[0].shape[1] if isinstance(signals, list) else signals.shape[2]
        self.window_, self.stride_ = auto_window(self.length_, self.window, self.stride)
        self.n_windows_ = n_windows(self.length_, self.window_, self.stride_)
        self.window_dim_ = self.window_ * self.n_channels_
        return self

    def transform(self, X):
        """Window sequences: (n_samples, n_windows_, window_dim_), or 2-D with ``flatten``.

        Parameters
        ----------
        X : array-like of shape (n_samples, T), (n_samples, n_channels, T) or
            (n_samples, T, n_channels), or a list of series

        Returns
        -------
        ndarray of shape (n_samples, n_windows_, window_dim_) or
        (n_samples, n_windows_ * window_dim_)
        """
        check_is_fitted(self)
        self._check_params()
        signals = self._equal_length(self._signals(X))
        windows = sequence_windows(signals, self.window_, self.stride_)
        return windows.reshape(windows.shape[0], -1) if self.flatten else windows

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
