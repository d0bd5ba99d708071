"""The inputs of the network estimators: X read as sequences, then scaled (``scale``).

A row of X is ``d`` positions of ``n_inputs`` values (2-D X, or 3-D ``(n_samples, d, n)``);
the network reads them scaled by the range seen in fit (``input_offset_``, ``input_scale_``).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["SCALES", "InputsMixin"]

#: scale: "auto" is "shared" where a position holds several values (windows of one signal,
#: patches of one image: the same units at every position) and "positions" where it holds
#: one (the columns of a table: units of their own)
SCALES = ("auto", "shared", "positions")


class InputsMixin:
    """Input reading and scaling of NetworkEstimator: X -> the sequences the network reads."""

    def _sequences(self, X, reset: bool) -> np.ndarray:
        """(n_samples, d * n) or (n_samples, d, n) -> (n_samples, d, n)."""
        if X.ndim == 3:
            if self.n_inputs is not None and X.shape[2] != self.n_inputs:
                raise ValueError(
                    f"X has {X.shape[2]} values per position but n_inputs={self.n_inputs}"
                )
            seq = X
        elif X.ndim == 2:
            n = 1 if self.n_inputs is None else self.n_inputs
            if X.shape[1] % n:
                raise ValueError(
                    f"n_inputs={n} must divide the number of features of X ({X.shape[1]}): "
                    "a row of X holds d positions of n_inputs values each"
                )
            seq = X.reshape(X.shape[0], X.shape[1] // n, n)
        else:
            raise ValueError(
                "X must be 2-D (n_samples, d * n_inputs) or 3-D (n_samples, d, n_inputs), "
                f"got an array of shape {X.shape}"
            )
        if reset:
            self.d_, self.n_inputs_ = seq.shape[1], seq.shape[2]
            self._table = X.ndim == 2 and self.n_inputs_ == 1  # columns, not a sequence
            if X.ndim == 3 and self.d_ == 1 and self.n_inputs_ > 1:
                warnings.warn(
                    f"X of shape {X.shape} is read as 1 position of {self.n_inputs_} values: "
                    "a network over one position. If X is a collection of series laid out "
                    "(n_samples, n_channels, n_timepoints), as aeon and sktime store them, "
                    "put SequenceWindows() in front (make_pipeline(SequenceWindows(), ...))",
                    UserWarning,
                    stacklevel=5,
                )
        elif seq.shape[1:] != (self.d_, self.n_inputs_):
            raise ValueError(
                f"X holds sequences of shape {seq.shape[1:]} (positions, n_inputs) but "
                f"{type(self).__name__} was fitted on ({self.d_}, {self.n_inputs_})"
            )
        return seq

    def _validate_X(self, X, reset: bool):
        X = validate_data(self, X, reset=reset, allow_nd=True, dtype=[np.float64, np.float32])
        return self._standardized(self._sequences(X, reset))

    # --- input scaling ------------------------------------------------------------------------
    def _scale_mode(self) -> str | None:
        """``scale`` resolved (``scale_``): "shared", "positions" or None. "auto" is "shared"
        for sequences (3-D X, or positions of several values) and "positions" for the
        columns of a 2-D table (one value per position)."""
        if self.scale == "auto":
            return "positions" if self._table else "shared"
        return self.scale

    def _fit_scaling(self, seq, sw) -> None:
        """The range of the inputs seen in fit: ``input_offset_`` and ``input_scale_``, (d, n).

        "shared" (sequences): one range for every position, pooled over the positions,
        mapped to [0, 1], so the smallest value (background, rest) is 0, the value the
        initialisation passes through as a near-identity step. "positions" (table columns):
        a range per column, mapped to [-1, 1], so that every ReLU unit starts active on
        part of every column. Samples of weight 0 do not count; a constant input gets
        scale 1 (docs/estimators.md, "Preparing your data").
        """
        mode = self.scale_ = self._scale_mode()
        d, n = seq.shape[1:]
        if mode is None:
            self.input_offset_, self.input_scale_ = np.zeros((d, n)), np.ones((d, n))
            return
        x = np.asarray(seq, dtype=np.float64)
        keep = np.asarray(sw) > 0
        seen = x[keep] if keep.any() else x
        low, high = seen.min(axis=0), seen.max(axis=0)  # (d, n)
        if mode == "shared":  # one range for every position: [0, 1]
            low = np.broadcast_to(low.min(axis=0), (d, n))
            high = np.broadcast_to(high.max(axis=0), (d, n))
            offset, scale = low, high - low
        else:  # a range per column: [-1, 1]
            offset, scale = (low + high) / 2, (high - low) / 2
        ok = np.isfinite(scale) & (scale > 1e-12 * (1.0 + np.abs(offset)))
        self.input_offset_ = np.broadcast_to(offset, (d, n)).copy()
        self.input_scale_ = np.broadcast_to(np.where(ok, scale, 1.0), (d, n)).copy()

    def _standardized(self, seq):
        """``(seq - input_offset_) / input_scale_``, rounded to float32 precision.

        The rounding makes a change of units exact: ``a * X + b`` gives scaled inputs that
        differ from X's in the last bits of float64, and a fit of thousands of steps
        amplifies such bits into other parameters (GunPoint: 0.973 and 0.953 from the same
        seed); rounded to float32 they are the same numbers (inputs need no more precision).
        """
        if not hasattr(self, "input_offset_"):  # fitted before scaling existed: as given
            return seq
        out = (seq - self.input_offset_) / self.input_scale_
        if self.scale_ is not None:
            with np.errstate(over="ignore"):
                rounded = out.astype(np.float32).astype(np.float64)
            out = np.where(np.isfinite(rounded), rounded, out)  # beyond float32: as computed
        return out.astype(seq.dtype, copy=False)

    def standardize(self, X):
        """The sequences the network reads: X as ``(n_samples, d, n)``, scaled (``scale``).

        ``network_`` scores these (``scale`` and the fitted ``input_offset_``,
        ``input_scale_``): ``network_(est.standardize(X))`` gives the estimator's scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, d * n_inputs) or (n_samples, d, n_inputs)

        Returns
        -------
        ndarray of shape (n_samples, d, n_inputs)
        """
        check_is_fitted(self)
        return self._validate_X(X, reset=False)
