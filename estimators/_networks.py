"""TT-, CP- and HT-network classifiers and regressors (docs/theory.md sections 1, 3 and 5.7)."""

from __future__ import annotations

from sklearn.base import ClassifierMixin, RegressorMixin

from ._base import MEMBERS_AUTO, MEMBERS_BELOW, RANKS_AUTO, NetworkEstimator, resolve_tree
from ._constraints import Boolean
from ._outputs import NetworkClassifierMixin, NetworkRegressorMixin

__all__ = [
    "TTNetworkClassifier",
    "TTNetworkRegressor",
    "CPNetworkClassifier",
    "CPNetworkRegressor",
    "HTNetworkClassifier",
    "HTNetworkRegressor",
]

_FORMATS = {
    "tt": (
        "a TT-network (recurrent network with multiplicative units [K18]; with a xi other "
        "than the product, the generalized RNN of [K19])",
        "TT-rank r of the train: every core is (r, m, r), the first (1, m, r), the last "
        "(r, m, n_outputs).",
        "tensorexpr.TTNetwork",
    ),
    "cp": (
        "a CP-network (shallow network: one hidden layer of width R with product or xi "
        "pooling over all positions)",
        "CP-rank R (width of the hidden layer).",
        "tensorexpr.CPNetwork",
    ),
    "ht": (
        "an HT-network (deep convolutional arithmetic circuit: hierarchical Tucker over a "
        "dimension tree; the balanced tree is size-2 pooling of neighbouring positions)",
        "rank r of every node of the tree (the root has n_outputs).",
        "tensorexpr.HTNetwork",
    ),
}

_DOC = """{title}

The score function is {what}, on a feature map f shared by all positions
(docs/theory.md section 1). X is a batch of sequences: 3-D ``(n_samples, d, n)`` is taken
as is, 2-D ``(n_samples, d * n)`` is split into d positions of ``n = n_inputs`` values.
The network is evaluated and trained by the TensorFlow engine of tensorexpr
(:mod:`tensorexpr.engine`): mini-batch ``keras.optimizers.Adam`` in a compiled TensorFlow
epoch (on a GPU when TensorFlow sees one) on {loss}; it does not go through tensorly, so it
keeps working whatever ``tensorexpr.set_backend`` chose. Under an active ``tf.distribute``
strategy (``with strategy.scope(): est.fit(X, y)``) every mini-batch is split over its
replicas.

Scale on long inputs (docs/theory.md section 6): the running state is stored as
``exp(L) * u`` with ``u`` divided by its largest entry at every step and the log-norm ``L``
accumulated on the side (for xi = product, and for every positively homogeneous operator,
``relu_max``, ``relu_sum``, ``max`` or one registered as such, where both arguments of xi are
first divided by the larger of their scales). The score is exactly ``exp(L) * u``, so hundreds
of positions neither overflow nor vanish and the exported :attr:`network_` gives the same
scores. ``softplus`` is not homogeneous and runs unrescaled.

Parameters
----------
rank : int or "auto", default "auto"
    {rank} "auto": {rank_one} for one network, {rank_member} for each of several members.
n_members : int or "auto", default "auto"
    Number of networks trained side by side, from their own initialisations, and averaged.
    "auto": {members_auto} members below {members_below} training samples (small sets, where
    the seed-to-seed spread is large), one network from there on and wherever the members do
    not merge into one (TT and HT with xi other than "product"); ``n_members_`` is the
    number used. The scores are the mean of the members' scores; each member is trained on
    its own loss. With a learned map ("relu", "linear") each member learns its own
    ``n_features - 1`` units (the map holds ``n_members * (n_features - 1) + 1`` features,
    the constant shared); with a fixed map all read one f. The members run in one vectorised
    graph (one TensorFlow call per step); the mean is one network of rank ``n_members *
    rank`` (block-diagonal cores, exact for xi = "product"; concatenated units for CP, any
    xi), which :attr:`network_` returns. Several members with a smaller rank average out the
    seed-to-seed spread of small sets at about the cost of one network (docs/estimators.md,
    "Few series"); other xi for TT and HT need ``n_members=1``.
n_features : int, default 16
    Size m of the feature map f for the learned maps ("relu", "linear"): ``m - 1``
    units plus a constant 1. For "poly" the degree is ``max(1, (m - 1) // n)``;
    ignored for "trig" (m = 2 n).
feature_map : {{"relu", "linear", "trig", "poly"}}, default "relu"
    ``"relu"``: learned ``f(x) = [max(Ax + b, 0), 1]``; ``"linear"``: learned
    ``[Ax + b, 1]``; ``"trig"``: fixed ``[cos(pi x / 2), sin(pi x / 2)]`` per value;
    ``"poly"``: fixed ``1, x, x^2, ...``. Scale the inputs (to [0, 1] for the fixed maps).
xi : str, default "product"
    The name of a registered operator (``tensorexpr.operator_names()``): ``"product"``,
    ``"relu_max"`` (the generalized ReLU network), ``"relu_sum"``, ``"softplus"``, ``"max"``,
    or one added with ``tensorexpr.register_operator``.
n_inputs : int, optional
    Values per position n when X is 2-D; None means 1 (every column a position).
scale : {{"auto", "shared", "positions"}} or None, default "auto"
    Scaling of the inputs by their range in the training data (``input_offset_``,
    ``input_scale_``), so that raw units of any size train alike and an affine change of
    units ``a * X + b`` (a > 0) changes nothing. ``"shared"``: one range per value of a
    position, pooled over the positions, mapped to [0, 1] (windows of one signal, patches
    of one image: the smallest value becomes 0, which the initialisation passes through);
    ``"positions"``: one range per position and value, mapped to [-1, 1] (the columns of a
    table); ``"auto"``: "shared" for sequences (3-D X, or 2-D X split into positions of
    several values), "positions" for the columns of a 2-D X; None: X as given. The
    resolved choice is ``scale_``; the network reads the scaled inputs (:meth:`standardize`).
alpha : float or "auto", default "auto"
    L2 penalty ``alpha / 2 * ||theta||^2`` on all parameters. "auto" is 1e-3 for sequences
    (3-D X, windows, patches) and 3e-2 for the columns of a table (2-D X, one value per
    position), which overfit small sets at 1e-3 (load_diabetes: R^2 -0.5 at 1e-3, 0.41 at
    3e-2; docs/estimators.md).
dropout : float or "auto", default "auto"
    Position dropout during training: each position of each sample is replaced, with
    this probability, by the constant feature alone, which the initialisation makes a
    near-identity step (a skipped position). A regulariser against the quick
    overfitting of TT-networks on sequences; ignored for "trig", which has no constant
    feature. "auto" is 0.2 when a position holds several values (windows of a signal,
    image patches: neighbours overlap or correlate, dropping one regularises) and 0 when
    it holds one value (the columns of a tabular row: dropping one deletes a feature);
    the sweep behind it is in docs/estimators.md.
max_iter : int, default 200
    Maximum number of iterations, as in scikit-learn's MLP. An iteration is one pass over
    the training data, or on small sets as many passes as make 10 optimiser steps (on 50
    samples at batch 32, 5 passes), so that ``max_iter`` and ``n_iter_no_change`` mean as
    much optimisation at any number of samples; ``partial_fit`` runs one pass.
batch_size : int, default 32
    Mini-batch size (the whole set when it is smaller).
learning_rate : float, default 3e-3
    Adam step size (the first one under the "plateau" schedule).
learning_rate_schedule : {{"plateau", "constant"}}, default "plateau"
    ``"plateau"``: when the watched score (the validation score with early stopping,
    the training loss otherwise) has not improved by ``tol`` for ``n_iter_no_change``
    epochs, the step is divided by 5, at most twice; the next plateau stops training.
    ``"constant"``: the first plateau stops training.
early_stopping : bool or "auto", default "auto"
    Hold out ``validation_fraction`` of the data (stratified for classifiers), watch
    the validation score instead of the training loss and keep the parameters of the
    best epoch. "auto" does so from 10,000 training samples on (as
    HistGradientBoostingClassifier does); on smaller sets the held-out tenth cost more
    accuracy than it saved (docs/estimators.md). ``partial_fit`` runs one epoch on all
    the data it gets and never stops early.
validation_fraction : float, default 0.1
    Share of the data held out when early stopping.
n_iter_no_change : int, default 20
    Iterations without improvement that make a plateau.
tol : float, default 1e-4
    Improvement that counts: of the validation score with early stopping, of the
    training loss otherwise (as in scikit-learn's MLP).
warm_start : bool, default False
    Continue from the previous fit (parameters and Adam state) instead of starting over.
dtype : {{"auto", "float32", "float64"}}, default "auto"
    Precision of training and scores; "auto" is float64 below 512 training samples
    (cheap there, and reproducible to rounding) and float32 above.
random_state : int, RandomState instance or None, default None
    Seeds the initialisation, the shuffling and the validation split.
verbose : int, default 0
    0: silent; 1: a progress bar over the epochs (tqdm, on stderr) with the training
    loss and the validation score; 2: one printed line per epoch.
{extra_params}
Attributes
----------
{attributes}network_ : {network}
    The trained score functions as a tensorexpr network, feature map included
    (``ReLUFeatures(A=..., b=..., append_constant=True)`` for "relu"). It reads the
    scaled inputs: on ``standardize(X)`` (X as ``(n_samples, d, n)``, scaled as
    ``scale`` says) its outputs equal {equal} (to the training precision), so tensorexpr's
    tools (grid tensors, ranks, width bounds) apply, with templates in scaled units.
loss_curve_ : list of float
    Training loss (weighted mean over the epoch) after every epoch.
n_params_ : int
    Number of trained parameters, feature map included (a shared core counts once).
n_iter_ : int
    Number of epochs run (cumulated over ``partial_fit`` and warm starts).
n_members_, rank_ : int
    The ``n_members`` and ``rank`` used ("auto" resolved at the first fit).
validation_scores_ : list of float
    Validation score per epoch (only when early stopping).
best_validation_score_ : float
    Best validation score (only when early stopping).
scale_ : {{"shared", "positions"}} or None
    The ``scale`` used ("auto" resolved).
input_offset_, input_scale_ : ndarray of shape (d, n)
    The network reads ``(X - input_offset_) / input_scale_`` (0 and 1 with ``scale=None``).{y_stats}
d_ : int
    Number of positions d.
n_inputs_ : int
    Values per position n.
n_features_in_ : int
    Number of columns of X seen in fit (d for 3-D input).
feature_names_in_ : ndarray of shape (n_features_in_,)
    Column names of X, when X is a DataFrame with string column names.

See Also
--------
{see_also}

References
----------
.. [K18] Khrulkov, Novikov, Oseledets. Expressive power of recurrent neural networks.
   ICLR 2018.
.. [K19] Khrulkov, Hrinchuk, Oseledets. Generalized tensor models for recurrent neural
   networks. ICLR 2019.

Examples
--------
{example}
"""

_CP_SHARE_PARAM = """share_cores : bool, default False
    One factor matrix for every position (the shallow convolutional circuit: a layer's
    weights shared across the positions, a symmetric CP decomposition): a unit responds to
    a window wherever it sits, and the score no longer depends on the order of the
    positions. It suits series whose classes are patterns that move (BasicMotions 0.930 ->
    0.980, MNIST-1D of 640 steps 0.44-0.48 -> 0.73-0.76) and loses where the position is
    the information (ItalyPowerDemand 0.969 -> 0.865, digits patches 0.987 -> 0.652;
    docs/estimators.md). False gives every position its own factors.
"""

_TREE_PARAM = """tree : {{"balanced", "linear"}}, nested tuples or DimensionTree, default "balanced"
    The dimension tree over the d positions: ``"balanced"`` (``DimensionTree.balanced(d)``,
    size-2 pooling of neighbours), ``"linear"`` (``DimensionTree.linear(d)``, TT-like), or
    nested pairs of positions such as ``((0, 1), (2, 3))``.
"""

_HT_SHARE_PARAM = """share_cores : bool, default True
    The convolutional form of the deep network: one leaf matrix for every position and one
    transfer tensor for every node of the same height (a layer's weights shared across it,
    as a convolution's), the root its own. It is what lets the deep network learn from a few
    dozen real series (GunPoint 0.963 against 0.895 with a tensor per node, 5 seeds;
    docs/estimators.md). False gives every leaf and node its own tensor (the deep network of
    Cohen and Shashua, ICML 2016, in full).
"""

_SHARE_PARAM = """share_cores : bool, default True
    One middle core for every position from the second to the next-to-last, as in a
    recurrent network (the same step at every position); the first and the last cores stay
    their own. One step then recognises a pattern wherever it sits, and there are ``d - 3``
    cores fewer to learn. It is what lifts the MNIST-1D windows above a GRU of the same
    size; on digits patches it matches a core per position (docs/estimators.md).
    False gives every position its own core (the TT-network of [K18] in full).
"""

_CLASSIFIER_ATTRIBUTES = """classes_ : ndarray of shape (n_classes,)
    Class labels.
"""

_EXAMPLE_CLASSIFIER = """>>> from sklearn.datasets import make_moons
>>> from estimators import {name}
>>> X, y = make_moons(n_samples=40, noise=0.1, random_state=0)
>>> clf = {name}(rank=4, max_iter=5, random_state=0).fit(X, y)
>>> clf.predict(X[:3]).shape
(3,)
>>> clf.network_(X[:3].reshape(3, 2, 1)).shape  # equals clf.decision_function(X[:3])
(3,)"""

_EXAMPLE_REGRESSOR = """>>> import numpy as np
>>> from estimators import {name}
>>> X = np.random.default_rng(0).uniform(size=(40, 4))
>>> y = X.sum(axis=1)
>>> reg = {name}(rank=4, max_iter=5, random_state=0).fit(X, y)
>>> reg.predict(X[:3]).shape
(3,)"""


_EXTRA_PARAMS = {"ht": _TREE_PARAM + _HT_SHARE_PARAM, "tt": _SHARE_PARAM, "cp": _CP_SHARE_PARAM}


def _docstring(kind: str, name: str, classifier: bool) -> str:
    what, rank, network = _FORMATS[kind]
    others = [f"{n}" for n in __all__ if n != name]
    return _DOC.format(
        title=f"{'Classifier' if classifier else 'Regressor'} whose score function is "
        f"{what.split(' (')[0]}.",
        what=what,
        loss="the sigmoid (two classes) or softmax cross-entropy of the scores"
        if classifier
        else "the squared error",
        rank=rank,
        rank_one=RANKS_AUTO[kind][0],
        rank_member=RANKS_AUTO[kind][1],
        members_auto=MEMBERS_AUTO,
        members_below=MEMBERS_BELOW,
        extra_params=_EXTRA_PARAMS[kind],
        attributes=_CLASSIFIER_ATTRIBUTES if classifier else "",
        y_stats=""
        if classifier
        else "\ny_mean_, y_scale_ : float\n    Mean and deviation of y in fit: the network learns "
        "``(y - y_mean_) / y_scale_``.",
        network=network,
        equal="``decision_function(X)``: one output, the score of ``classes_[1]``, for two "
        "classes; one output per class otherwise"
        if classifier
        else "``(predict(X) - y_mean_) / y_scale_``",
        see_also="\n".join(f"{n} : The same with another format or task." for n in others)
        + "\nImagePatches : Images to patch sequences for these estimators."
        + "\nSequenceWindows : Signals and time series to window sequences.",
        example=(_EXAMPLE_CLASSIFIER if classifier else _EXAMPLE_REGRESSOR).format(name=name),
    )


class _SharedCoresEstimator(NetworkEstimator):
    """The shared parameters plus ``share_cores``, the weight sharing of the TT and CP
    estimators (what is shared is the kind's: ``_SHARE_PARAM``, ``_CP_SHARE_PARAM``)."""

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
        share_cores=True,
    ):
        super().__init__(
            rank=rank,
            n_members=n_members,
            n_features=n_features,
            feature_map=feature_map,
            xi=xi,
            n_inputs=n_inputs,
            scale=scale,
            alpha=alpha,
            dropout=dropout,
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            warm_start=warm_start,
            dtype=dtype,
            random_state=random_state,
            verbose=verbose,
        )
        self.share_cores = share_cores

    _parameter_constraints = {
        **NetworkEstimator._parameter_constraints,
        "share_cores": [Boolean()],
    }

    def _shared_cores(self) -> bool:
        return bool(self.share_cores)


class TTNetworkEstimator(_SharedCoresEstimator):
    _kind = "tt"


class CPNetworkEstimator(_SharedCoresEstimator):
    """``share_cores`` off by default: a shared factor loses the position (below)."""

    _kind = "cp"

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
        share_cores=False,
    ):
        super().__init__(
            rank=rank,
            n_members=n_members,
            n_features=n_features,
            feature_map=feature_map,
            xi=xi,
            n_inputs=n_inputs,
            scale=scale,
            alpha=alpha,
            dropout=dropout,
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            warm_start=warm_start,
            dtype=dtype,
            random_state=random_state,
            verbose=verbose,
            share_cores=share_cores,
        )


class TTNetworkClassifier(ClassifierMixin, NetworkClassifierMixin, TTNetworkEstimator):
    __doc__ = _docstring("tt", "TTNetworkClassifier", True)


class TTNetworkRegressor(RegressorMixin, NetworkRegressorMixin, TTNetworkEstimator):
    __doc__ = _docstring("tt", "TTNetworkRegressor", False)


class CPNetworkClassifier(ClassifierMixin, NetworkClassifierMixin, CPNetworkEstimator):
    __doc__ = _docstring("cp", "CPNetworkClassifier", True)


class CPNetworkRegressor(RegressorMixin, NetworkRegressorMixin, CPNetworkEstimator):
    __doc__ = _docstring("cp", "CPNetworkRegressor", False)


class HTNetworkEstimator(NetworkEstimator):
    """The shared parameters plus ``tree``, the dimension tree of the HT estimators."""

    _kind = "ht"
    _revives_units = True

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
        tree="balanced",
        share_cores=True,
    ):
        super().__init__(
            rank=rank,
            n_members=n_members,
            n_features=n_features,
            feature_map=feature_map,
            xi=xi,
            n_inputs=n_inputs,
            scale=scale,
            alpha=alpha,
            dropout=dropout,
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_schedule=learning_rate_schedule,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            warm_start=warm_start,
            dtype=dtype,
            random_state=random_state,
            verbose=verbose,
        )
        self.tree = tree
        self.share_cores = share_cores

    _parameter_constraints = {
        **NetworkEstimator._parameter_constraints,
        "share_cores": [Boolean()],
    }

    def _tree_structure(self):
        return resolve_tree(self.tree, self.d_).structure

    def _shared_cores(self) -> bool:
        return bool(self.share_cores)


class HTNetworkClassifier(ClassifierMixin, NetworkClassifierMixin, HTNetworkEstimator):
    __doc__ = _docstring("ht", "HTNetworkClassifier", True)


class HTNetworkRegressor(RegressorMixin, NetworkRegressorMixin, HTNetworkEstimator):
    __doc__ = _docstring("ht", "HTNetworkRegressor", False)
