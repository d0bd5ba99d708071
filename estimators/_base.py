"""Shared machinery of the tensor-network estimators: parameters, the fit steps, export.

The networks, their TensorFlow evaluation (with the log-scale state), their initialisation and
their Adam training all come from :mod:`tensorexpr.engine`; this module does what is
scikit-learn's: parameters, data validation, targets, early stopping, the fitted attributes.
:class:`NetworkEstimator` inherits the reading and scaling of X (:mod:`._inputs`), the training
loop (:mod:`._training`) and the scores (:mod:`._outputs`).
"""

from __future__ import annotations

import copy

import numpy as np
from sklearn.base import BaseEstimator
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
from ._inputs import SCALES, InputsMixin
from ._outputs import NetworkScoresMixin
from ._training import (
    TrainingLoopMixin,
    limit_tensorflow_threads,
    revive_dead_units,
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
DTYPES = ("auto", "float32", "float64")
SCHEDULES = ("plateau", "constant")
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


class NetworkEstimator(InputsMixin, TrainingLoopMixin, NetworkScoresMixin, BaseEstimator):
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
            self._feature_map = revive_dead_units(self._feature_map, seq, sw)
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
