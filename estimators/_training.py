"""The training schedule of the estimators: plateaus, early stopping, progress, threads."""

from __future__ import annotations

import os

import numpy as np

from tensorexpr import engine

__all__ = [
    "EARLY_STOPPING_FROM",
    "LR_DECAY_FACTOR",
    "LR_DECAYS",
    "Plateau",
    "Progress",
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
