"""The outputs of the network estimators: the network's scores, and classification or
regression on top of them (targets, predictions, ``fit`` and ``partial_fit``)."""

from __future__ import annotations

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from tensorexpr import engine
from tensorexpr.features import split_prefixed

__all__ = ["PREDICT_CHUNK", "NetworkScoresMixin", "NetworkClassifierMixin", "NetworkRegressorMixin"]

#: rows scored per call of the compiled score function
PREDICT_CHUNK = 8192


class NetworkScoresMixin:
    """The scores of NetworkEstimator's fitted network, in chunks and without NaN."""

    def _raw_scores(self, seq, dtype_name: str | None = None):
        """``(v, L)`` float64 with scores ``exp(L)[:, None] * v``, computed in chunks.

        Rows that a float32 network cannot score finitely (inputs beyond float32's range)
        are scored again in float64, so scores never come out NaN from finite inputs.
        """
        tf = engine.import_tensorflow()
        dtype_name = dtype_name or self._dtype
        dtype = getattr(tf, dtype_name)
        fn = engine.scores_function(self._spec, self._feature_map, dtype_name)
        names = engine.param_names(self._spec)
        fnames = sorted(self._feature_map.trainable_params())
        params = [tf.constant(self._params[k], dtype) for k in names]
        learned = split_prefixed(self._params)[1]
        fparams = [tf.constant(learned[k], dtype) for k in fnames]
        vs, Ls = [], []
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, seq.shape[0], PREDICT_CHUNK):
                chunk = np.asarray(seq[start : start + PREDICT_CHUNK]).astype(dtype_name)
                v, L = fn(params, fparams, tf.constant(chunk, dtype))
                vs.append(v.numpy().astype(np.float64))
                Ls.append(L.numpy().astype(np.float64))
        v, L = np.concatenate(vs), np.concatenate(Ls)
        bad = ~(np.isfinite(v).all(axis=1) & np.isfinite(L))
        if bad.any() and dtype_name != "float64":
            v[bad], L[bad] = self._raw_scores(np.asarray(seq)[bad].astype(np.float64), "float64")
        return v, L

    def _scores(self, seq):
        v, L = self._raw_scores(seq)
        return _scale_scores(v, L)


def _scale_scores(v, L):
    """``exp(L)[:, None] * v`` without NaN: ``sign(v) exp(L + log|v|)``, inf beyond float64."""
    with np.errstate(divide="ignore", over="ignore"):
        return np.sign(v) * np.exp(L[:, None] + np.log(np.abs(v)))


class NetworkClassifierMixin:
    """Classification on top of NetworkEstimator: one score (binary) or one per class."""

    _regression = False

    def _encode_targets(self, y, reset, classes, sample_weight):
        check_classification_targets(y)
        if reset:
            labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if classes is not None and not np.isin(np.unique(y), labels).all():
                raise ValueError(
                    f"y holds labels {sorted(set(np.unique(y)) - set(labels))} that are not "
                    f"in classes={list(labels)}"
                )
            if classes is None:
                present = np.unique(y[sample_weight > 0])
                if present.size < 2:
                    raise ValueError(
                        f"{type(self).__name__} needs samples of at least 2 classes (with "
                        f"positive sample_weight), got {present.size} class: {list(present)}"
                    )
            elif labels.size < 2:
                raise ValueError(f"classes must name at least 2 classes, got {list(labels)}")
            self.classes_ = labels
            self._n_outputs = 1 if labels.size == 2 else labels.size
        elif classes is not None and not np.array_equal(
            np.unique(np.asarray(classes)), self.classes_
        ):
            raise ValueError(
                f"classes={np.unique(np.asarray(classes)).tolist()} differs from the classes of "
                f"the first call, classes_ = {self.classes_.tolist()}: partial_fit continues one "
                "network, whose outputs are fixed; fit again to change the classes"
            )
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(
                f"y holds labels {list(np.unique(y[unknown]))} not seen in the first fit; "
                f"classes_ = {list(self.classes_)}"
            )
        return np.searchsorted(self.classes_, y).astype(np.float64)

    def _validation_score(self, seq, y_enc, w):
        pred = self._predict_indices(seq)
        return float(np.average(pred == y_enc, weights=w))

    def _predict_indices(self, seq):
        v, _ = self._raw_scores(seq)
        if v.shape[1] == 1:  # the sign of v is the sign of the score exp(L) v
            return (v[:, 0] > 0).astype(int)
        return np.argmax(v, axis=1)

    def decision_function(self, X):
        """Scores: (n_samples,) for two classes (> 0 means ``classes_[1]``), else (n_samples, C).

        Parameters
        ----------
        X : array-like of shape (n_samples, d * n_inputs) or (n_samples, d, n_inputs)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        scores = self._scores(self._validate_X(X, reset=False))
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, d * n_inputs) or (n_samples, d, n_inputs)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[self._predict_indices(self._validate_X(X, reset=False))]

    def predict_proba(self, X):
        """Class probabilities: sigmoid (two classes) or softmax of the scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, d * n_inputs) or (n_samples, d, n_inputs)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        v, L = self._raw_scores(self._validate_X(X, reset=False))
        if v.shape[1] == 1:
            p1 = 0.5 * (1.0 + np.tanh(0.5 * _scale_scores(v, L)[:, 0]))  # sigmoid, no overflow
            return np.column_stack([1.0 - p1, p1])
        # softmax of exp(L) v computed from the gaps exp(L) (max v - v) in log scale: finite
        # (one-hot on the largest score) when exp(L) itself overflows
        gap = v.max(axis=1, keepdims=True) - v
        with np.errstate(divide="ignore", over="ignore"):
            e = np.exp(-np.exp(np.minimum(L[:, None] + np.log(gap), 700.0)))
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, d * n_inputs) or (n_samples, d, n_inputs)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def fit(self, X, y, sample_weight=None):
        """Train the network on (X, y) with Adam (from scratch unless ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, d * n_inputs) or (n_samples, d, n_inputs)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y), continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, d * n_inputs) or (n_samples, d, n_inputs)
        y : array-like of shape (n_samples,)
        classes : array-like, optional
            All labels; required on the first call.
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        if not hasattr(self, "_params") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)


class NetworkRegressorMixin:
    """Regression on top of NetworkEstimator: one score, squared error."""

    _regression = True

    def _encode_targets(self, y, reset, classes, sample_weight):
        """y standardized by its weighted mean ``y_mean_`` and deviation ``y_scale_``
        (fitted on the first fit): the network learns a target of unit scale whatever
        the units of y, and ``predict`` maps its score back."""
        y = np.asarray(y, dtype=np.float64)
        if reset:
            self._n_outputs = 1
            w = np.asarray(sample_weight, dtype=np.float64)
            self.y_mean_ = float(np.average(y, weights=w))
            spread = float(np.sqrt(np.average((y - self.y_mean_) ** 2, weights=w)))
            ok = np.isfinite(spread) and spread > 1e-12 * (1.0 + abs(self.y_mean_))
            self.y_scale_ = spread if ok else 1.0
        # rounded to float32 precision, as the inputs: statistics that differ in the last
        # bits (weights against repeated rows, a change of units) give the same targets
        return ((y - self._y_offset()) / self._y_factor()).astype(np.float32).astype(np.float64)

    def _y_offset(self) -> float:
        return getattr(self, "y_mean_", 0.0)

    def _y_factor(self) -> float:
        return getattr(self, "y_scale_", 1.0)

    def _validation_score(self, seq, y_enc, w):
        from sklearn.metrics import r2_score

        return float(r2_score(y_enc, self._scores(seq)[:, 0], sample_weight=w))

    def predict(self, X):
        """Predicted targets (the network's score).

        Parameters
        ----------
        X : array-like of shape (n_samples, d * n_inputs) or (n_samples, d, n_inputs)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        score = self._scores(self._validate_X(X, reset=False))[:, 0]
        return self._y_offset() + self._y_factor() * score

    def fit(self, X, y, sample_weight=None):
        """Train the network on (X, y) with Adam (from scratch unless ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, d * n_inputs) or (n_samples, d, n_inputs)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, d * n_inputs) or (n_samples, d, n_inputs)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=True)
