"""Shared machinery of the tensor-network estimators: validation, the training loop, export.

The networks, their TensorFlow evaluation (with the log-scale state), their initialisation and
their Adam training all come from :mod:`tensorexpr.engine`; this module does what is
scikit-learn's: parameters, data validation, targets, early stopping, the fitted attributes.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

import tensorexpr as te
from tensorexpr import engine
from tensorexpr.features import prefixed, split_prefixed
from tensorexpr.networks import layout_of
from tensorexpr.validation import (
    check_choice,
    check_positive_int,
    check_sample_weight,
    machine_memory,
)

from ._constraints import Boolean, Int, NoneValue, Options, Real, validate_params
from ._training import (
    LR_DECAY_FACTOR,
    LR_DECAYS,
    Plateau,
    Progress,
    limit_tensorflow_threads,
    uses_early_stopping,
)

#: below this many training samples, dtype="auto" trains in float64 (cheap at that size,
#: and fits become reproducible to rounding, e.g. integer weights == repeated samples)
FLOAT64_BELOW = 512
#: n_members="auto": below this many training samples (the small sets, where the
#: seed-to-seed spread is large) MEMBERS_AUTO members, each of the kind's rank for members
#: (rank="auto"); one network from here on (docs/estimators.md, "Few series")
MEMBERS_BELOW = FLOAT64_BELOW
MEMBERS_AUTO = 4
#: rank="auto" per kind: (the rank of one network, the rank of each of several members);
#: a member of half the rank costs a quarter of the TT / HT arithmetic of one network
RANKS_AUTO = {"tt": (24, 12), "cp": (16, 8), "ht": (16, 8)}
#: dropout="auto": the position dropout of positions holding several values (windows,
#: patches); positions of one value (a tabular row) get none (docs/estimators.md, the sweep)
DROPOUT_AUTO = 0.2
#: rows scored per call of the compiled score function
PREDICT_CHUNK = 8192
DTYPES = ("auto", "float32", "float64")
#: scale: "auto" is "shared" where a position holds several values (windows of one signal,
#: patches of one image: the same units at every position) and "positions" where it holds
#: one (the columns of a table: units of their own)
SCALES = ("auto", "shared", "positions")
SCHEDULES = ("plateau", "constant")
#: float32 training compiles its epoch with XLA from this budget (n_samples * max_iter) on:
#: XLA's compilation costs seconds once per shape and process (docs/estimators.md, latency)
XLA_FROM = 100_000
#: an iteration (``max_iter``, ``n_iter_no_change``) is at least this many optimiser steps:
#: several passes over a small training set (docs/estimators.md, "few samples")
ITERATION_STEPS = 10
#: alpha="auto": the L2 penalty of sequences (windows, patches: one core shared by the
#: positions) and of table columns (one value per position, 2-D X), which overfit small
#: sets at the sequences' penalty (docs/estimators.md, "tables")
ALPHA_SEQUENCE = 1e-3
ALPHA_TABLE = 3e-2


def resolve_tree(tree, d: int) -> te.DimensionTree:
    """``"balanced"``, ``"linear"``, nested tuples or a DimensionTree -> a tree over d modes."""
    if isinstance(tree, str):
        check_choice(tree, "tree", ("balanced", "linear"))
        return te.DimensionTree.balanced(d) if tree == "balanced" else te.DimensionTree.linear(d)
    if isinstance(tree, te.DimensionTree):
        resolved = tree
    elif isinstance(tree, (tuple, list, int)):
        resolved = te.DimensionTree(tree)
    else:
        raise TypeError(
            "tree must be 'balanced', 'linear', nested pairs of modes or a DimensionTree, "
            f"got {type(tree).__name__}"
        )
    if resolved.d != d:
        raise ValueError(f"tree must have the d={d} positions of X as leaves, got {tree!r}")
    return resolved


class NetworkEstimator(BaseEstimator):
    """Parameters and training loop shared by every network estimator (see subclasses)."""

    _kind = "tt"
    _regression = True

    def __init__(
        self,
        rank="auto",
        n_members="auto",
        n_features=16,
        feature_map="relu",
        xi="product",
        n_inputs=None,
        scale="auto",
        alpha="auto",
        dropout="auto",
        max_iter=200,
        batch_size=32,
        learning_rate=3e-3,
        learning_rate_schedule="plateau",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=20,
        tol=1e-4,
        warm_start=False,
        dtype="auto",
        random_state=None,
        verbose=0,
    ):
        self.rank = rank
        self.n_members = n_members
        self.n_features = n_features
        self.feature_map = feature_map
        self.xi = xi
        self.n_inputs = n_inputs
        self.scale = scale
        self.alpha = alpha
        self.dropout = dropout
        self.max_iter = max_iter
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

    @property
    def _loss(self) -> str:
        if self._regression:
            return "squared"
        return "binary" if self._n_outputs == 1 else "multiclass"

    # --- validation -------------------------------------------------------------------------
    #: what every parameter accepts (checked at fit by :func:`validate_params`)
    _parameter_constraints = {
        "rank": [Options(["auto"]), Int(1)],
        "n_members": [Options(["auto"]), Int(1)],
        "n_features": [Int(1)],
        "feature_map": [Options(te.feature_map_names)],
        "xi": [Options(te.operator_names)],
        "n_inputs": [NoneValue(), Int(1)],
        "scale": [Options(SCALES), NoneValue()],
        "alpha": [Options(["auto"]), Real(0.0)],
        "dropout": [Options(["auto"]), Real(0.0, 1.0, high_open=True)],
        "max_iter": [Int(1)],
        "batch_size": [Int(1)],
        "learning_rate": [Real(0.0, low_open=True)],
        "learning_rate_schedule": [Options(SCHEDULES)],
        "early_stopping": [Boolean(), Options(["auto"])],
        "validation_fraction": [Real(0.0, 1.0, low_open=True, high_open=True)],
        "n_iter_no_change": [Int(1)],
        "tol": [Real(0.0)],
        "warm_start": [Boolean()],
        "dtype": [Options(DTYPES)],
        "verbose": [Int(0), Boolean()],
    }

    def _validate_params(self):
        validate_params(self, self._parameter_constraints)
        # the one rule across parameters: a map with a constant feature needs two or more
        if self.feature_map != "poly":
            check_positive_int(self.n_features, "n_features", 2)

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

    def _tree_structure(self):
        """HT estimators: the tree's nested tuples; None for the other kinds."""
        return None

    def _shared_cores(self) -> bool:
        """TT estimators: whether the middle cores are one shared core; False otherwise."""
        return False

    # --- training: the steps ------------------------------------------------------------------
    def _encode_targets(self, y, reset: bool, classes, sample_weight):  # pragma: no cover
        """y as float64 scores' targets; on reset also the outputs (classes_, _n_outputs)."""
        raise NotImplementedError

    def _validation_score(self, seq, y_enc, w):  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit(self, X, y, sample_weight, incremental: bool, classes=None):
        """:meth:`_fit_steps`, all or nothing: if it raises (a bad input, a loss that became
        NaN, a KeyboardInterrupt, a MemoryError), the estimator is restored to the state it
        had before the call (unfitted before a first fit, the previous model otherwise)."""
        before = {k: copy.copy(v) for k, v in self.__dict__.items()}
        try:
            return self._fit_steps(X, y, sample_weight, incremental, classes)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _fit_steps(self, X, y, sample_weight, incremental: bool, classes=None):
        """Validate, (re)initialise, then run the epochs of :meth:`_fit_stochastic`."""
        self._validate_params()
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
        sw = check_sample_weight(sample_weight, seq.shape[0])
        y_enc = self._encode_targets(y, reset, classes, sw)
        if reset:
            self._fit_scaling(seq, sw)
        seq = self._standardized(seq)
        if reset:
            self._initialize(seq.shape[0], seq, sw)
        else:
            self._check_same_network()
        train, val = self._split_validation(seq, y_enc, sw, incremental)
        limit_tensorflow_threads()
        trainer = self._load_trainer(train[0].shape[0])
        self._fit_stochastic(trainer, train, val, incremental)
        return self

    def _initialize(self, n_samples: int, seq, sw):
        """Spec, feature map and initial parameters (engine), a fresh Adam, empty curves."""
        self._rng = np.random.default_rng(
            self.random_state
            if not isinstance(self.random_state, np.random.RandomState)
            else self.random_state.randint(2**31 - 1)
        )
        if self.dtype == "auto":
            self._dtype = "float64" if n_samples < FLOAT64_BELOW else "float32"
        else:
            self._dtype = self.dtype
        self._resolve_size(n_samples)
        self._check_size(n_samples)
        K, own = self._members, self._own_features
        # members with their own features: one map holding K blocks and the shared constant
        size = K * (self.n_features - 1) + 1 if own else self.n_features
        self._feature_map = te.make_feature_map(self.feature_map, self.n_inputs_, size, self._rng)
        constant = self._feature_map.constant_index
        m = self.n_features if own else self._feature_map.n_features
        self._spec = engine.NetworkSpec(
            kind=self._kind,
            xi=te.get_operator(self.xi).name,
            d=self.d_,
            m=m,
            rank=self.rank_,
            n_outputs=self._n_outputs,
            tree=self._tree_structure(),
            shared_cores=self._shared_cores(),
            members=K,
            member_features=engine.member_feature_index(K, m, constant) if own else None,
        )
        if self.feature_map == "relu":
            self._feature_map = _revive_dead_units(self._feature_map, seq, sw)
        # a member reads its own features with the constant last (member_feature_index)
        member_constant = (m - 1 if constant is not None else None) if own else constant
        params = engine.init_params(self._spec, self._rng, member_constant)
        params.update(prefixed(self._feature_map.trainable_params()))
        self._params = params
        self._fitted_network_args = self._network_args()
        self._optimizer_state = None
        self.n_iter_ = 0
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        if uses_early_stopping(self.early_stopping, n_samples):
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf

    def _check_size(self, n_samples: int) -> None:
        """Refuse, before allocating, a network whose parameters, Adam's two moments and
        one batch of states cannot fit in memory, naming the argument that makes it big.

        The network is counted by its kind's layout, on ``max(n_features, 2 n)`` features:
        at least the size of every named map (trig has 2 n, poly at most n + 1 or m).
        """
        d, n, r, K = self.d_, self.n_inputs_, self.rank_, self._members
        m = max(self.n_features, 2 * n)
        one = engine.NetworkSpec(
            kind=self._kind,
            xi="product",
            d=d,
            m=m,
            rank=r,
            n_outputs=max(1, self._n_outputs),
            tree=self._tree_structure(),
            shared_cores=self._shared_cores(),
        )
        network = K * layout_of(self._kind).n_params(one)
        feature = (n * m + m) * (K if self._own_features else 1)
        batch = K * min(self.batch_size, n_samples) * d * (m + r * r)
        needed = 8 * (4 * (network + feature) + 4 * batch)
        available = machine_memory()
        if needed > available:
            raise ValueError(
                f"{type(self).__name__}(rank={r}, n_members={K}, "
                f"n_features={self.n_features}) on {d} positions of {n} values needs about "
                f"{needed / 2**30:.3g} GiB for its parameters, Adam's moments and one batch, "
                "more than this machine's "
                f"{available / 2**30:.3g} GiB: lower rank or n_features"
            )

    def _resolve_size(self, n_samples: int) -> None:
        """``n_members_`` and ``rank_``: ``n_members`` and ``rank`` with "auto" resolved.

        n_members="auto" is MEMBERS_AUTO members below MEMBERS_BELOW training samples and
        one network from there on, and one network wherever members do not merge into one
        (TT, HT with xi other than the product); rank="auto" is the kind's rank of one
        network, or of each member. A number is taken as given, checked against xi.
        """
        merges = layout_of(self._kind).merges(te.get_operator(self.xi))
        if self.n_members == "auto":
            K = MEMBERS_AUTO if n_samples < MEMBERS_BELOW and merges else 1
        else:
            K = self.n_members
            if K > 1 and not merges:
                raise ValueError(
                    f"n_members={K} needs xi='product' for a {self._kind.upper()} network "
                    "(the members' mean is then one network of rank n_members * rank), "
                    f"got xi={self.xi!r}: use n_members=1"
                )
        if self.rank == "auto":
            self.rank_ = RANKS_AUTO[self._kind][K > 1]
        else:
            self.rank_ = self.rank
        self.n_members_ = K

    @property
    def _members(self) -> int:
        """The number of members of the fitted network (``n_members_``)."""
        return getattr(self, "n_members_", 1)  # fitted before members existed: one

    @property
    def _own_features(self) -> bool:
        """Whether each member learns its own features (the maps with learned weights) rather
        than all members reading one f(x): measured to make the members differ as separate
        fits do (docs/estimators.md, "Few series")."""
        return self._members > 1 and self.feature_map in ("relu", "linear")

    def _network_args(self) -> tuple:
        return (
            self.rank,
            self.n_members,
            self.n_features,
            self.feature_map,
            te.get_operator(self.xi).name,
            self._tree_structure(),
            self._shared_cores(),
        )

    def _check_same_network(self):
        now, before = self._network_args(), self._fitted_network_args
        if now != before:
            raise ValueError(
                "warm_start and partial_fit continue the same network: (rank, n_members, "
                f"n_features, feature_map, xi, tree, share_cores) = {now} differs from "
                f"{before} of the previous fit; set warm_start=False to start over"
            )

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
        """XLA for float32: always when asked for (``dtype="float32"``); under "auto" from a
        budget of XLA_FROM sample-epochs on, where the faster epochs pay back compiling."""
        if self._dtype != "float32" or self._members > 1:
            # members: XLA compiles the vectorised members' epoch for minutes (GunPoint,
            # 4 members: 367 s against 7.6 s unjitted; docs/estimators.md, "Few series")
            return False
        return self.dtype == "float32" or n_samples * self.max_iter >= XLA_FROM

    @property
    def _alpha(self) -> float:
        """``alpha`` ("auto": ALPHA_TABLE for the columns of a table, ALPHA_SEQUENCE else)."""
        if isinstance(self.alpha, str):  # "auto"
            table = getattr(self, "_table", self.n_inputs_ == 1)
            return ALPHA_TABLE if table else ALPHA_SEQUENCE
        return float(self.alpha)

    @property
    def _position_dropout(self) -> float:
        """``dropout`` ("auto": DROPOUT_AUTO where a position holds several values, 0 where
        it holds one); 0 for the "trig" map, which has no constant feature to keep."""
        if self.feature_map == "trig":
            return 0.0
        if isinstance(self.dropout, str):  # "auto"
            return DROPOUT_AUTO if self.n_inputs_ > 1 else 0.0
        return float(self.dropout)

    def _fit_stochastic(self, trainer, train, val, incremental: bool):
        """Epochs of mini-batch Adam, the plateau schedule and early stopping.

        The watched score is the validation score with early stopping (the best
        validated parameters are kept), minus the training loss otherwise (the last
        parameters are kept, unless the last iteration's loss diverged far above the
        lowest one, when the parameters of the lowest loss are kept).
        """
        tf = engine.import_tensorflow()
        seq, y_enc, sw = train
        X_all = tf.constant(seq, trainer.dtype)
        y_all = tf.constant(y_enc, trainer.dtype)
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

    def _run_epoch(self, trainer, X_all, y_all, sw, incremental: bool = False) -> float:
        """One iteration: shuffled passes over the data, as many as make at least
        ITERATION_STEPS optimiser steps (one pass from ITERATION_STEPS batches on, and
        always one in ``partial_fit``), so that ``max_iter`` and ``n_iter_no_change``
        mean as much optimisation on 50 samples as on 5,000. Returns the weighted mean
        loss, appended to ``loss_curve_``."""
        rng = self._rng
        n = int(X_all.shape[0])
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

    # --- scores --------------------------------------------------------------------------
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

    @property
    def network_(self):
        """The trained score functions as a tensorexpr network (see the class docstring)."""
        check_is_fitted(self)
        net, learned = split_prefixed(self._params)
        fmap = self._feature_map.with_params(**learned) if learned else self._feature_map
        return engine.to_network(self._spec, net, fmap)

    @property
    def n_params_(self) -> int:
        """Number of trained parameters, feature map included (a shared core counts once)."""
        check_is_fitted(self)
        return int(sum(np.size(v) for v in self._params.values()))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


def _revive_dead_units(feature_map, seq, sw):
    """A ReLU unit of the initial feature map that is 0 on every training value (the data
    sit on one side of its hyperplane, as when long windows share a large common mode)
    never gets a gradient: its bias is set so that its hyperplane passes through the
    weighted mean input instead. Deterministic and weight-exact (integer weights equal
    repeated rows)."""
    params = feature_map.trainable_params()
    A, b = params["A"], params["b"]
    x = np.asarray(seq, dtype=np.float64)
    keep = np.asarray(sw) > 0
    rows = x[keep]
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


def _diverged(last: float, lowest: float) -> bool:
    """A last training loss far above the lowest: more than twice it and 0.1 above it."""
    return last > max(2.0 * lowest, lowest + 0.1)


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
