"""Shared machinery of the tensor-network estimators: validation, the training loop, export."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _model

#: below this many training samples, dtype="auto" trains in float64 (cheap at that size,
#: and fits become reproducible to rounding, e.g. integer weights == repeated samples)
FLOAT64_BELOW = 512
#: early_stopping="auto" holds out a validation split from this many training samples on,
#: as HistGradientBoostingClassifier does; below it a held-out tenth is too small to rank
#: epochs and every sample is worth more in training (docs/estimators.md, the sweep)
EARLY_STOPPING_FROM = 10_000
#: learning_rate_schedule="plateau": on a plateau of n_iter_no_change epochs the step is
#: multiplied by LR_DECAY_FACTOR, at most LR_DECAYS times; the next plateau stops training
LR_DECAY_FACTOR = 0.2
LR_DECAYS = 2
#: float32 training compiles its epoch with XLA from this budget (n_samples * max_epochs)
XLA_FROM = 100_000
_PREDICT_CHUNK = 8192


def _check_sample_weight(sample_weight, n_samples: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n_samples)
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim == 0:
        sw = np.full(n_samples, float(sw))
    if sw.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},) like X and y, got {sw.shape}"
        )
    if not np.all(np.isfinite(sw)) or np.any(sw < 0):
        raise ValueError("sample_weight must be finite and non-negative")
    if sw.sum() <= 0:
        raise ValueError("sample_weight must have a positive sum, got all weights zero")
    return sw


def _check_int(value, name: str, low: int = 1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)


def _check_float(value, name: str, low: float, high: float = np.inf, open_interval=False):
    """A real in [low, high] (or (low, high) when open_interval)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and not np.isnan(value)
    if ok:
        ok = low < value < high if open_interval else low <= value <= high
    if not ok:
        interval = f"({low}, {high})" if open_interval else f"[{low}, {high}]"
        raise ValueError(f"{name} must be a float in {interval}, got {value!r}")
    return float(value)


def _uses_early_stopping(early_stopping, n_samples: int) -> bool:
    """early_stopping=True / False, or "auto": on from EARLY_STOPPING_FROM samples."""
    if early_stopping == "auto":
        return n_samples >= EARLY_STOPPING_FROM
    return bool(early_stopping)


class _Plateau:
    """Watches a score (higher is better) for plateaus of ``patience`` epochs.

    ``update`` says "continue", "decay" (a plateau while decays are left: lower the
    step and watch again) or "stop" (a plateau with none left).
    """

    def __init__(self, patience: int, tol: float, decays: int, best: float = -np.inf):
        self.patience, self.tol, self.decays_left, self.best = patience, tol, decays, best
        self.no_improvement = 0

    def update(self, score: float) -> str:
        if score > self.best + self.tol:
            self.no_improvement = 0
        else:
            self.no_improvement += 1
        self.best = max(self.best, score)
        if self.no_improvement < self.patience:
            return "continue"
        self.no_improvement = 0
        if self.decays_left > 0:
            self.decays_left -= 1
            return "decay"
        return "stop"


class _Progress:
    """What ``verbose`` shows: nothing (0), a progress bar over the epochs with the loss
    and validation score (1, tqdm on stderr), or one line per epoch (2 and more, stdout).
    """

    def __init__(self, verbose: int, epochs: int, name: str):
        self.verbose = verbose
        self.bar = None
        if verbose == 1:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=epochs, desc=name, unit="epoch", leave=True)

    def epoch(self, n_iter: int, loss: float, score: float | None = None):
        if self.bar is not None:
            postfix = {"loss": f"{loss:.4g}"}
            if score is not None:
                postfix["validation score"] = f"{score:.4f}"
            self.bar.set_postfix(postfix, refresh=False)
            self.bar.update()
        elif self.verbose >= 2:
            message = f"Epoch {n_iter}: loss = {loss:.6f}"
            if score is not None:
                message += f", validation score = {score:.6f}"
            print(message)

    def note(self, text: str):
        if self.bar is not None:
            self.bar.write(text)
        elif self.verbose >= 2:
            print(text)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class _BaseNetwork(BaseEstimator):
    """Parameters and training loop shared by every network estimator (see subclasses)."""

    _family = "tt"
    _regression = True

    @property
    def _loss_kind(self) -> str:
        if self._regression:
            return "squared"
        return "binary" if self._n_outputs == 1 else "multiclass"

    def __init__(
        self,
        rank=16,
        n_features=16,
        feature_map="relu",
        xi="product",
        input_dim=None,
        alpha=1e-3,
        dropout=0.2,
        max_epochs=200,
        batch_size=32,
        learning_rate=3e-3,
        learning_rate_schedule="plateau",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        warm_start=False,
        dtype="auto",
        random_state=None,
        verbose=0,
    ):
        self.rank = rank
        self.n_features = n_features
        self.feature_map = feature_map
        self.xi = xi
        self.input_dim = input_dim
        self.alpha = alpha
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    # --- validation -------------------------------------------------------------------------

    def _validate_hyperparameters(self):
        import tensorexpr as te

        _check_int(self.rank, "rank")
        if self.feature_map not in _model.FEATURE_MAPS:
            raise ValueError(
                f"feature_map must be one of {list(_model.FEATURE_MAPS)}, got {self.feature_map!r}"
            )
        _check_int(self.n_features, "n_features", 2 if self.feature_map != "poly" else 1)
        te.get_operator(self.xi)  # ValueError naming the operators
        if not isinstance(self.xi, str):
            raise ValueError(f"xi must be an operator name (str), got {self.xi!r}")
        if self.input_dim is not None:
            _check_int(self.input_dim, "input_dim")
        _check_float(self.alpha, "alpha", 0.0)
        _check_float(self.dropout, "dropout", 0.0, 1.0)
        if self.dropout >= 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        _check_int(self.max_epochs, "max_epochs")
        _check_int(self.batch_size, "batch_size")
        _check_float(self.learning_rate, "learning_rate", 0.0, open_interval=True)
        if self.learning_rate_schedule not in ("constant", "plateau"):
            raise ValueError(
                "learning_rate_schedule must be 'constant' or 'plateau', got "
                f"{self.learning_rate_schedule!r}"
            )
        if not (isinstance(self.early_stopping, bool) or self.early_stopping == "auto"):
            raise ValueError(
                f"early_stopping must be True, False or 'auto', got {self.early_stopping!r}"
            )
        _check_float(self.validation_fraction, "validation_fraction", 0.0, 1.0, True)
        _check_int(self.n_iter_no_change, "n_iter_no_change")
        _check_float(self.tol, "tol", 0.0)
        if self.dtype not in ("auto", "float32", "float64"):
            raise ValueError(f"dtype must be 'auto', 'float32' or 'float64', got {self.dtype!r}")

    def _sequences(self, X, reset: bool) -> np.ndarray:
        """(n_samples, d * n) or (n_samples, d, n) -> (n_samples, d, n)."""
        if X.ndim == 3:
            if self.input_dim is not None and X.shape[2] != self.input_dim:
                raise ValueError(
                    f"X has {X.shape[2]} values per position but input_dim={self.input_dim}"
                )
            seq = X
        elif X.ndim == 2:
            n = 1 if self.input_dim is None else self.input_dim
            if X.shape[1] % n:
                raise ValueError(
                    f"input_dim={n} must divide the number of features of X ({X.shape[1]}): "
                    "a row of X holds d positions of input_dim values each"
                )
            seq = X.reshape(X.shape[0], X.shape[1] // n, n)
        else:
            raise ValueError(
                "X must be 2-D (n_samples, d * input_dim) or 3-D (n_samples, d, input_dim), "
                f"got an array of shape {X.shape}"
            )
        if reset:
            self.n_positions_, self.input_dim_ = seq.shape[1], seq.shape[2]
        elif seq.shape[1:] != (self.n_positions_, self.input_dim_):
            raise ValueError(
                f"X holds sequences of shape {seq.shape[1:]} (positions, input_dim) but "
                f"{type(self).__name__} was fitted on "
                f"({self.n_positions_}, {self.input_dim_})"
            )
        return seq

    def _validate_X(self, X, reset: bool):
        X = validate_data(self, X, reset=reset, allow_nd=True, dtype=[np.float64, np.float32])
        return self._sequences(X, reset)

    # --- training ------------------------------------------------------------------------

    def _encode_targets(self, y, reset: bool, classes=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def _validation_score(self, seq, y_enc, w):  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit(self, X, y, sample_weight, incremental: bool, classes=None):
        self._validate_hyperparameters()
        reset = not (hasattr(self, "_params") and (incremental or self.warm_start))
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            allow_nd=True,
            dtype=[np.float64, np.float32],
            y_numeric=self._regression,
        )
        seq = self._sequences(X, reset)
        sw = _check_sample_weight(sample_weight, seq.shape[0])
        y_enc = self._encode_targets(y, reset, classes, sw)
        if reset:
            self._initialise(seq.shape[0])
        else:
            self._check_same_network()
        tf = _model.tf_module()
        dtype = tf.float64 if self._dtype == "float64" else tf.float32
        rng = self._rng

        if _uses_early_stopping(self.early_stopping, seq.shape[0]) and not incremental:
            stratify = None if self._regression else y_enc
            try:
                idx_train, idx_val = train_test_split(
                    np.arange(seq.shape[0]),
                    test_size=self.validation_fraction,
                    stratify=stratify,
                    random_state=rng.integers(2**31 - 1),
                )
            except ValueError:
                idx_train, idx_val = train_test_split(
                    np.arange(seq.shape[0]),
                    test_size=self.validation_fraction,
                    random_state=rng.integers(2**31 - 1),
                )
            val = (seq[idx_val], y_enc[idx_val], sw[idx_val])
            if not hasattr(self, "validation_scores_"):
                self.validation_scores_, self.best_validation_score_ = [], -np.inf
            seq, y_enc, sw = seq[idx_train], y_enc[idx_train], sw[idx_train]
        else:
            val = None

        names = _model.param_names(self._spec)
        state = self._training_variables(names, dtype)
        params, moments, variances, count = state
        run_epoch = self._epoch_runner(state, dtype, seq.shape[0])
        dropout = tf.constant(self._position_dropout, dtype)
        lr = tf.constant(self.learning_rate, dtype)
        alpha = tf.constant(self.alpha, dtype)
        n = seq.shape[0]
        batch = min(self.batch_size, n)
        n_batches = -(-n // batch)
        X_all = tf.constant(seq, dtype)
        y_all = tf.constant(y_enc, dtype)
        total_weight = float(sw.sum())

        epochs = 1 if incremental else self.max_epochs
        plateau = _Plateau(
            self.n_iter_no_change,
            self.tol,
            LR_DECAYS if self.learning_rate_schedule == "plateau" else 0,
            best=self.best_validation_score_ if val is not None else -self.best_loss_,
        )
        learning_rate = self.learning_rate
        best_params = None
        progress = _Progress(self.verbose, epochs, type(self).__name__)
        for _ in range(epochs):
            # the last batch is padded with weight-0 samples, so every batch has one shape
            order = np.concatenate([rng.permutation(n), np.zeros(n_batches * batch - n, int)])
            weights = np.concatenate([sw, [0.0]])[
                np.where(np.arange(n_batches * batch) < n, order, n)
            ]
            seed = tf.constant(rng.integers(2**31 - 1, size=2), tf.int64)
            epoch_loss = run_epoch(
                X_all,
                y_all,
                tf.constant(order.reshape(n_batches, batch), tf.int32),
                tf.constant(weights.reshape(n_batches, batch), dtype),
                lr,
                alpha,
                dropout,
                seed,
            )
            epoch_loss /= total_weight
            if not np.isfinite(epoch_loss):
                raise FloatingPointError(
                    f"training loss became {epoch_loss} at epoch {self.n_iter_ + 1}; lower "
                    "learning_rate or scale the inputs"
                )
            self.n_iter_ += 1
            self.loss_curve_.append(epoch_loss)
            if val is not None:
                self._params = {k: v.numpy() for k, v in zip(names, params, strict=True)}
                score = self._validation_score(*val)
                self.validation_scores_.append(score)
                if score > self.best_validation_score_:
                    self.best_validation_score_ = score
                    best_params = dict(self._params)
            else:
                score = -epoch_loss
                self.best_loss_ = min(self.best_loss_, epoch_loss)
            action = plateau.update(score)
            progress.epoch(self.n_iter_, epoch_loss, score if val is not None else None)
            if incremental:
                continue
            if action == "decay":
                learning_rate *= LR_DECAY_FACTOR
                lr = tf.constant(learning_rate, dtype)
                progress.note(f"Plateau: learning rate lowered to {learning_rate:.3g}")
            elif action == "stop":
                progress.note(
                    f"Stopping: no improvement > tol={self.tol} for {self.n_iter_no_change} epochs"
                )
                break
        else:
            if not incremental:
                warnings.warn(
                    f"{type(self).__name__}: max_epochs={self.max_epochs} reached before "
                    "convergence; increase max_epochs",
                    ConvergenceWarning,
                    stacklevel=3,
                )
        progress.close()
        self._params = {k: v.numpy() for k, v in zip(names, params, strict=True)}
        if best_params is not None:
            self._params = best_params
        self._adam = (
            {k: v.numpy() for k, v in zip(names, moments, strict=True)},
            {k: v.numpy() for k, v in zip(names, variances, strict=True)},
        )
        self._adam_count = float(count.numpy())
        return self

    @property
    def _position_dropout(self) -> float:
        """``dropout``, or 0 for the "trig" map, which has no constant feature to keep."""
        return 0.0 if self.feature_map == "trig" else self.dropout

    def _training_variables(self, names, dtype):
        """(params, moments, variances, count) as TensorFlow variables.

        Under an active ``tf.distribute`` strategy they are created mirrored on its
        replicas; ONLY_FIRST_REPLICA lets every replica assign the (identical) update.
        """
        tf = _model.tf_module()

        def variable(value):
            return tf.Variable(
                tf.constant(value, dtype), aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA
            )

        return (
            [variable(self._params[k]) for k in names],
            [variable(self._adam[0][k]) for k in names],
            [variable(self._adam[1][k]) for k in names],
            variable(self._adam_count),
        )

    def _uses_xla(self, dtype, n_samples: int) -> bool:
        """XLA for float32 training long enough to pay back its compilation.

        Compiling the epoch with XLA costs seconds once per network shape and process
        and then runs an epoch about 4x faster (docs/estimators.md, latency), so it is
        used from XLA_FROM sample-epochs of budget (``n_samples * max_epochs``) on.
        """
        tf = _model.tf_module()
        return dtype == tf.float32 and n_samples * self.max_epochs >= XLA_FROM

    def _epoch_runner(self, state, dtype, n_samples: int):
        """``run_epoch(X, y, batches, batch_weights, lr, alpha, dropout, seed) -> sum w * loss``.

        One compiled graph per epoch on one device (XLA in float32); under an active
        ``tf.distribute`` strategy (``with strategy.scope(): fit``, the Keras
        convention) one distributed step per mini-batch, the same batches and dropout
        masks, so the fit is the single-device fit up to rounding.
        """
        tf = _model.tf_module()
        use_dropout = self._position_dropout > 0
        if not tf.distribute.has_strategy():
            epoch_fn = _model.train_epoch_function(
                self._spec, self._loss_kind, use_dropout, jit=self._uses_xla(dtype, n_samples)
            )

            def run_epoch(X, y, batches, batch_weights, lr, alpha, dropout, seed):
                total = epoch_fn(*state, X, y, batches, batch_weights, lr, alpha, dropout, seed)
                return float(total)

            return run_epoch
        step = _model.distributed_step_function(
            self._spec, self._loss_kind, use_dropout, tf.distribute.get_strategy(), state
        )

        def run_distributed_epoch(X, y, batches, batch_weights, lr, alpha, dropout, seed):
            total = 0.0
            for i in range(int(batches.shape[0])):
                idx = batches[i]
                step_seed = seed + tf.constant([0, i], seed.dtype)  # as the epoch graph
                total += float(
                    step(
                        tf.gather(X, idx),
                        tf.gather(y, idx),
                        batch_weights[i],
                        lr,
                        alpha,
                        dropout,
                        step_seed,
                    )
                )
            return total

        return run_distributed_epoch

    def _check_same_network(self):
        import tensorexpr as te

        spec = self._spec
        now = (self.rank, self.n_features, self.feature_map, te.get_operator(self.xi).name)
        before = (spec.rank, spec.n_features, spec.feature_map, spec.xi)
        if now != before:
            raise ValueError(
                "warm_start and partial_fit continue the same network: (rank, n_features, "
                f"feature_map, xi) = {now} differs from {before} of the previous fit; "
                "set warm_start=False to start over"
            )

    def _initialise(self, n_samples: int):
        import tensorexpr as te

        self._rng = np.random.default_rng(
            self.random_state
            if not isinstance(self.random_state, np.random.RandomState)
            else self.random_state.randint(2**31 - 1)
        )
        if self.dtype == "auto":
            self._dtype = "float64" if n_samples < FLOAT64_BELOW else "float32"
        else:
            self._dtype = self.dtype
        self._spec = _model.NetworkSpec(
            family=self._family,
            feature_map=self.feature_map,
            xi=te.get_operator(self.xi).name,
            d=self.n_positions_,
            n_inputs=self.input_dim_,
            n_features=self.n_features,
            rank=self.rank,
            n_outputs=self._n_outputs,
        )
        self._params = _model.init_params(self._spec, self._rng)
        self._adam = tuple({k: np.zeros_like(v) for k, v in self._params.items()} for _ in range(2))
        self._adam_count = 0.0
        self.n_iter_ = 0
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        if _uses_early_stopping(self.early_stopping, n_samples):
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf

    # --- scores --------------------------------------------------------------------------

    def _raw_scores(self, seq):
        """``(v, L)`` float64 with scores ``exp(L)[:, None] * v``, computed in chunks."""
        tf = _model.tf_module()
        dtype = tf.float64 if self._dtype == "float64" else tf.float32
        fn = _model.scores_function(self._spec)
        params = [tf.constant(self._params[k], dtype) for k in _model.param_names(self._spec)]
        vs, Ls = [], []
        for start in range(0, seq.shape[0], _PREDICT_CHUNK):
            v, L = fn(params, tf.constant(seq[start : start + _PREDICT_CHUNK], dtype))
            vs.append(v.numpy().astype(np.float64))
            Ls.append(L.numpy().astype(np.float64))
        return np.concatenate(vs), np.concatenate(Ls)

    def _scores(self, seq):
        v, L = self._raw_scores(seq)
        return np.exp(L)[:, None] * v

    @property
    def network_(self):
        """The trained score functions as a tensorexpr network (see the class docstring)."""
        check_is_fitted(self)
        return _model.to_network(self._spec, self._params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


class _NetworkClassifierMixin:
    """Classification on top of _BaseNetwork: one score (binary) or one per class."""

    _regression = False

    def _encode_targets(self, y, reset, classes=None, sample_weight=None):
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
        X : array-like of shape (n_samples, d * input_dim) or (n_samples, d, input_dim)

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
        X : array-like of shape (n_samples, d * input_dim) or (n_samples, d, input_dim)

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
        X : array-like of shape (n_samples, d * input_dim) or (n_samples, d, input_dim)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        scores = self._scores(self._validate_X(X, reset=False))
        if scores.shape[1] == 1:
            p1 = 0.5 * (1.0 + np.tanh(0.5 * scores[:, 0]))  # sigmoid without overflow
            return np.column_stack([1.0 - p1, p1])
        z = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, d * input_dim) or (n_samples, d, input_dim)

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
        X : array-like of shape (n_samples, d * input_dim) or (n_samples, d, input_dim)
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
        X : array-like of shape (n_samples, d * input_dim) or (n_samples, d, input_dim)
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


class _NetworkRegressorMixin:
    """Regression on top of _BaseNetwork: one score, squared error."""

    _regression = True

    def _encode_targets(self, y, reset, classes=None, sample_weight=None):
        if reset:
            self._n_outputs = 1
        return np.asarray(y, dtype=np.float64)

    def _validation_score(self, seq, y_enc, w):
        from sklearn.metrics import r2_score

        return float(r2_score(y_enc, self._scores(seq)[:, 0], sample_weight=w))

    def predict(self, X):
        """Predicted targets (the network's score).

        Parameters
        ----------
        X : array-like of shape (n_samples, d * input_dim) or (n_samples, d, input_dim)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self._scores(self._validate_X(X, reset=False))[:, 0]

    def fit(self, X, y, sample_weight=None):
        """Train the network on (X, y) with Adam (from scratch unless ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, d * input_dim) or (n_samples, d, input_dim)
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
        X : array-like of shape (n_samples, d * input_dim) or (n_samples, d, input_dim)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=True)
