"""The training of the estimators: the loop of epochs, plateaus, early stopping, progress,
threads."""

from __future__ import annotations

import os
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from tensorexpr import engine
from tensorexpr.features import PARAM_PREFIX

__all__ = [
    "EARLY_STOPPING_FROM",
    "ITERATION_STEPS",
    "LR_DECAY_FACTOR",
    "LR_DECAYS",
    "XLA_FROM",
    "XLA_ITERATIONS",
    "Plateau",
    "Progress",
    "TrainingLoopMixin",
    "limit_tensorflow_threads",
    "uses_early_stopping",
]

#: early_stopping="auto" holds out a validation split from this many training samples on,
#: as HistGradientBoostingClassifier does; below it a held-out tenth is too small to rank
#: epochs and every sample is worth more in training (docs/estimators.md, the sweep)
EARLY_STOPPING_FROM = 10_000
#: learning_rate_schedule="plateau": on a plateau of n_iter_no_change epochs the step is
#: multiplied by LR_DECAY_FACTOR, at most LR_DECAYS times; the next plateau stops training
LR_DECAY_FACTOR = 0.2
LR_DECAYS = 2
#: dtype="auto" compiles the epoch with XLA unless the fit is short: fewer than
#: XLA_ITERATIONS iterations and a budget (n_samples * max_iter) under XLA_FROM. XLA's
#: compilation costs 0.5-7 s once per shape and process and saves 60-75% of every later
#: iteration (docs/estimators.md, latency): short fits skip it
XLA_FROM = 100_000
XLA_ITERATIONS = 50
#: an iteration (``max_iter``, ``n_iter_no_change``) is at least this many optimiser steps:
#: several passes over a small training set (docs/estimators.md, "few samples")
ITERATION_STEPS = 10


def uses_early_stopping(early_stopping, n_samples: int) -> bool:
    """early_stopping=True / False, or "auto": on from EARLY_STOPPING_FROM samples."""
    if isinstance(early_stopping, str) and early_stopping == "auto":
        return n_samples >= EARLY_STOPPING_FROM
    return bool(early_stopping)


class Plateau:
    """Watches a score (higher is better) for plateaus of ``patience`` epochs.

    ``update`` says "continue", "decay" (a plateau while decays are left: lower the
    step and watch again) or "stop" (a plateau with none left).
    """

    def __init__(
        self, patience: int, tol: float, decays: int, best: float = -np.inf, strict: bool = True
    ):
        self.patience, self.tol, self.decays_left, self.best = patience, tol, decays, best
        self.strict = strict  # a validation score must beat best + tol; a loss may equal it
        self.no_improvement = 0

    def update(self, score: float) -> str:
        margin = score - (self.best + self.tol)
        if margin > 0 or (margin == 0 and not self.strict):
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


class Progress:
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


def limit_tensorflow_threads() -> None:
    """Honour OMP_NUM_THREADS as TensorFlow's thread budget before TensorFlow starts.

    joblib's process workers (``GridSearchCV(n_jobs=k)``) run with OMP_NUM_THREADS set
    to ``cpu_count // k``, but TensorFlow sizes its thread pools to every core, so k
    workers on k cores would run k^2 busy threads. TF_NUM_INTRAOP_THREADS /
    TF_NUM_INTEROP_THREADS win when set; once TensorFlow's runtime has started (the
    user ran an op) nothing changes.
    """
    budget = os.environ.get("OMP_NUM_THREADS", "")
    if not budget.isdigit() or int(budget) < 1:
        return
    tf = engine.import_tensorflow()
    try:
        if "TF_NUM_INTRAOP_THREADS" not in os.environ:
            tf.config.threading.set_intra_op_parallelism_threads(int(budget))
        if "TF_NUM_INTEROP_THREADS" not in os.environ:
            tf.config.threading.set_inter_op_parallelism_threads(int(budget))
    except RuntimeError:  # the runtime is running: keep what it has
        pass


class TrainingLoopMixin:
    """The training loop of NetworkEstimator: validation split, trainer, epochs of Adam."""

    def _split_validation(self, seq, y_enc, sw, incremental: bool):
        """``(train, validation)`` triples (X, y, w); validation None without early stopping."""
        if not uses_early_stopping(self.early_stopping, seq.shape[0]) or incremental:
            return (seq, y_enc, sw), None
        rng = self._rng
        stratify = None if self._regression else y_enc
        try:
            idx_train, idx_val = train_test_split(
                np.arange(seq.shape[0]),
                test_size=self.validation_fraction,
                stratify=stratify,
                random_state=rng.integers(2**31 - 1),
            )
        except ValueError:  # a class too small to stratify
            idx_train, idx_val = train_test_split(
                np.arange(seq.shape[0]),
                test_size=self.validation_fraction,
                random_state=rng.integers(2**31 - 1),
            )
        if not hasattr(self, "validation_scores_"):
            self.validation_scores_, self.best_validation_score_ = [], -np.inf
        take = [(seq[i], y_enc[i], sw[i]) for i in (idx_train, idx_val)]
        return take[0], take[1]

    def _load_trainer(self, n_samples: int) -> engine.NetworkTrainer:
        """The engine's trainer for this network, loaded with the current parameters.

        Under an active ``tf.distribute`` strategy (``with strategy.scope(): fit``, the
        Keras convention) the trainer is that strategy's.
        """
        tf = engine.import_tensorflow()
        strategy = tf.distribute.get_strategy() if tf.distribute.has_strategy() else None
        trainer = engine.network_trainer(
            self._spec,
            self._feature_map,
            self._loss,
            self._position_dropout > 0,
            self._dtype,
            jit=self._uses_xla(n_samples),
            strategy=strategy,
        )
        trainer.load(self._params, self._optimizer_state, self.learning_rate)
        return trainer

    def _uses_xla(self, n_samples: int) -> bool:
        """XLA always when asked for (``dtype="float32"``); otherwise, in either precision,
        unless the fit is short (fewer than XLA_ITERATIONS iterations and a budget under
        XLA_FROM sample-iterations), where compiling would cost more than it saves."""
        if self.dtype == "float32":
            return True
        return self.max_iter >= XLA_ITERATIONS or n_samples * self.max_iter >= XLA_FROM

    def _fit_stochastic(self, trainer, train, val, incremental: bool):
        """Epochs of mini-batch Adam, the plateau schedule and early stopping.

        The watched score is the validation score with early stopping (the best
        validated parameters are kept), minus the training loss otherwise (the last
        parameters are kept, unless the last iteration's loss diverged far above the
        lowest one, when the parameters of the lowest loss are kept).
        """
        seq, y_enc, sw = train
        X_all, y_all = trainer.constants(seq, y_enc)
        best_params = lowest = None
        epochs = 1 if incremental else self.max_iter
        plateau = Plateau(
            self.n_iter_no_change,
            self.tol,
            LR_DECAYS if self.learning_rate_schedule == "plateau" else 0,
            best=self.best_validation_score_ if val is not None else -self.best_loss_,
            strict=val is not None,  # as scikit-learn's MLP: loss <= best - tol improves
        )
        learning_rate = self.learning_rate
        progress = Progress(self.verbose, epochs, type(self).__name__)
        for _ in range(epochs):
            epoch_loss = self._run_epoch(trainer, X_all, y_all, sw, incremental)
            if self._revives_units and self.feature_map == "relu":
                self._revive_in_training(trainer, seq, sw)
            if val is not None:
                self._params = trainer.params()
                score = self._validation_score(*val)
                self.validation_scores_.append(score)
                if score > self.best_validation_score_:
                    self.best_validation_score_ = score
                    best_params = dict(self._params)
            else:
                score = -epoch_loss
                if epoch_loss < self.best_loss_ and not incremental:
                    lowest = trainer.params()  # what a late divergence falls back to
                self.best_loss_ = min(self.best_loss_, epoch_loss)
            action = plateau.update(score)
            progress.epoch(self.n_iter_, epoch_loss, score if val is not None else None)
            if incremental:
                continue
            if action == "decay":
                learning_rate *= LR_DECAY_FACTOR
                trainer.set_learning_rate(learning_rate)
                progress.note(f"Plateau: learning rate lowered to {learning_rate:.3g}")
            elif action == "stop":
                progress.note(
                    f"Stopping: no improvement > tol={self.tol} for {self.n_iter_no_change} epochs"
                )
                break
        else:
            if not incremental:
                warnings.warn(
                    f"{type(self).__name__}: max_iter={self.max_iter} reached before "
                    "convergence; increase max_iter",
                    ConvergenceWarning,
                    stacklevel=4,
                )
        progress.close()
        if val is None and lowest is not None and _diverged(epoch_loss, self.best_loss_):
            # the last iteration blew the loss up (a step too large for a long product):
            # keep the parameters of the lowest loss instead of the diverged ones
            best_params = lowest
            progress.note(f"Loss diverged to {epoch_loss:.3g}: parameters of the lowest loss kept")
        self._params = best_params if best_params is not None else trainer.params()
        self._optimizer_state = trainer.optimizer_state()

    #: whether ReLU units dead on every training window are revived after each epoch (HT:
    #: its first steps killed up to half of them; for TT and CP the revival cost accuracy:
    #: docs/estimators.md, "Measured")
    _revives_units = False

    def _revive_in_training(self, trainer, seq, sw) -> None:
        """After an epoch, ReLU units dead on every training window are moved through the
        mean input (:func:`revive_dead_units`); Adam's moments and step count stay. A dead
        unit gets no gradient, and the first steps on a deep product killed up to half of
        them (HT on BasicMotions: 17-42 units, training accuracy 0.70 on one seed)."""
        params = trainer.params()
        A, b = params[PARAM_PREFIX + "A"], params[PARAM_PREFIX + "b"]
        current = self._feature_map.with_params(A=A, b=b)
        revived = revive_dead_units(current, seq, sw)
        if revived is current:  # no unit dead
            return
        params[PARAM_PREFIX + "b"] = revived.trainable_params()["b"]
        lr = float(trainer.optimizer.learning_rate.numpy())
        trainer.load(params, trainer.optimizer_state(), lr)

    def _run_epoch(self, trainer, X_all, y_all, sw, incremental: bool = False) -> float:
        """One iteration: shuffled passes over the data, as many as make at least
        ITERATION_STEPS optimiser steps (one pass from ITERATION_STEPS batches on, and
        always one in ``partial_fit``), so that ``max_iter`` and ``n_iter_no_change``
        mean as much optimisation on 50 samples as on 5,000. Returns the weighted mean
        loss, appended to ``loss_curve_``."""
        rng = self._rng
        n = len(sw)  # X_all may hold padding rows (NetworkTrainer.constants)
        batch = min(self.batch_size, n)
        n_batches = -(-n // batch)
        passes = 1 if incremental else max(1, -(-ITERATION_STEPS // n_batches))
        # each pass's last batch is padded with weight-0 samples: every batch has one shape
        pad = np.zeros(n_batches * batch - n, int)
        order = np.concatenate([np.concatenate([rng.permutation(n), pad]) for _ in range(passes)])
        real = np.tile(np.arange(n_batches * batch) < n, passes)
        weights = np.concatenate([sw, [0.0]])[np.where(real, order, n)]
        n_batches *= passes
        seed = rng.integers(2**31 - 1, size=2)
        total = trainer.run_epoch(
            X_all,
            y_all,
            order.reshape(n_batches, batch),
            weights.reshape(n_batches, batch),
            self._alpha,
            self._position_dropout,
            seed,
        )
        epoch_loss = total / float(passes * sw.sum())
        if not np.isfinite(epoch_loss):
            raise FloatingPointError(
                f"training loss became {epoch_loss} at epoch {self.n_iter_ + 1}; lower "
                "learning_rate or scale the inputs"
            )
        self.n_iter_ += 1
        self.loss_curve_.append(epoch_loss)
        return epoch_loss


def _diverged(last: float, lowest: float) -> bool:
    """A last training loss far above the lowest: more than twice it and 0.1 above it."""
    return last > max(2.0 * lowest, lowest + 0.1)


def revive_dead_units(feature_map, seq, sw):
    """A ReLU unit of the feature map that is 0 on every training value (the data sit on
    one side of its hyperplane: at initialisation when long windows share a large common
    mode, in training after a large first step) never gets a gradient again: its bias is
    set so that its hyperplane passes through the weighted mean input instead. Returns the
    same map when no unit is dead. Deterministic and weight-exact (integer weights equal
    repeated rows)."""
    params = feature_map.trainable_params()
    A, b = params["A"], params["b"]
    x = np.asarray(seq, dtype=np.float64)
    keep = np.asarray(sw) > 0
    rows = x if keep.all() else x[keep]  # no copy of the training set after every epoch
    pre_max = np.full(A.shape[0], -np.inf)  # (units,), in chunks: bounded memory
    for start in range(0, rows.shape[0], 4096):
        chunk = rows[start : start + 4096] @ A.T + b
        pre_max = np.maximum(pre_max, chunk.max(axis=(0, 1)))
    dead = ~(pre_max > 0)
    if not dead.any():
        return feature_map
    w = np.asarray(sw, dtype=np.float64)[keep]
    mean = np.tensordot(w / w.sum(), rows, axes=1).mean(axis=0)  # (n,)
    b = b.copy()
    b[dead] = -A[dead] @ mean
    return feature_map.with_params(A=A, b=b)
