"""Tests of estimators/: export to tensorexpr, long inputs, pipelines, pickling, errors."""

from __future__ import annotations

import os
import pickle
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, make_moons  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

import tensorexpr as te  # noqa: E402
from estimators import (  # noqa: E402
    CPNetworkClassifier,
    CPNetworkRegressor,
    HTNetworkClassifier,
    HTNetworkRegressor,
    ImagePatches,
    SequenceWindows,
    TTNetworkClassifier,
    TTNetworkRegressor,
)
from estimators._experiment import DIGITS_SETTINGS, TRAINING  # noqa: E402

CLASSIFIERS = [TTNetworkClassifier, CPNetworkClassifier, HTNetworkClassifier]
REGRESSORS = [TTNetworkRegressor, CPNetworkRegressor, HTNetworkRegressor]


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _sequences(n=120, d=6, n_inputs=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, d, n_inputs))
    score = X[:, ::2, 0].sum(axis=1) - X[:, 1::2, -1].sum(axis=1)
    return X, score


def _digit_patches(n=None):
    X, y = load_digits(return_X_y=True)
    if n is not None:
        X, y = X[:n], y[:n]
    return ImagePatches(patch_size=2, image_shape=(8, 8)).fit_transform(X / 16.0), y


# --- network_ gives the scores of the estimator -------------------------------------------


@pytest.mark.parametrize("cls", CLASSIFIERS)
@pytest.mark.parametrize(
    "xi, n_classes, dtype",
    [
        ("product", 2, "float32"),
        ("relu_max", 3, "float32"),
        ("product", 3, "float64"),
        ("relu_sum", 2, "float64"),
        ("softplus", 3, "float64"),
        ("max", 2, "float64"),
    ],
)
def test_network_matches_decision_function(cls, xi, n_classes, dtype):
    X, score = _sequences(d=5)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    clf = cls(rank=3, n_features=4, xi=xi, max_iter=3, dtype=dtype, random_state=0).fit(X, y)
    dec = clf.decision_function(X)
    net = clf.network_
    assert isinstance(net, (te.TTNetwork, te.CPNetwork, te.HTNetwork))
    assert net.xi.name == xi
    out = np.asarray(net(clf.standardize(X)))  # the network reads the standardized inputs
    assert out.shape == dec.shape == ((len(X),) if n_classes == 2 else (len(X), n_classes))
    scale = np.abs(dec).max()
    np.testing.assert_allclose(out, dec, rtol=1e-4, atol=1e-4 * scale)
    if n_classes == 2:  # decision_function is the score of classes_[1]
        np.testing.assert_array_equal(clf.predict(X), clf.classes_[(out > 0).astype(int)])


@pytest.mark.parametrize("cls", REGRESSORS)
@pytest.mark.parametrize("feature_map", ["relu", "linear", "trig", "poly"])
def test_network_matches_predict_regressor(cls, feature_map):
    X, score = _sequences(d=4)
    dtype = "float32" if feature_map == "relu" else "float64"
    reg = cls(
        rank=3, n_features=5, feature_map=feature_map, max_iter=3, dtype=dtype, random_state=0
    ).fit(X.reshape(len(X), -1), score)
    # 2-D X without n_inputs: every column one position (n = 1)
    assert (reg.d_, reg.n_inputs_) == (8, 1)
    pred = reg.predict(X.reshape(len(X), -1))
    out = np.asarray(reg.network_(reg.standardize(X.reshape(len(X), -1))))
    out = reg.y_mean_ + reg.y_scale_ * out  # the network learns the standardized target
    np.testing.assert_allclose(out, pred, rtol=1e-4, atol=1e-4 * np.abs(pred).max())


def test_network_feature_map_is_learned_relu_with_constant():
    X, score = _sequences(d=3)
    clf = TTNetworkClassifier(rank=2, n_features=5, n_members=1, max_iter=2, random_state=0)
    clf.fit(X, score > 0)
    fmap = clf.network_.feature_map
    assert isinstance(fmap, te.ReLUFeatures)
    assert fmap.append_constant and fmap.n_features == 5 and fmap.A.shape == (4, 2)
    assert [core.shape for core in clf.network_.cores] == [(1, 5, 2), (2, 5, 2), (2, 5, 1)]


# --- long inputs ------------------------------------------------------------------------


def _marker_task(n, d, seed):
    """Noise in [0, 0.1] and one marker 1.0: at position d/5 for class 0, 3d/4 for class 1.

    The same value means a different class at a different position, and the network
    must carry it over hundreds of steps.
    """
    rng = np.random.default_rng(seed)
    X = 0.1 * rng.uniform(size=(n, d))
    y = rng.integers(0, 2, n)
    X[np.arange(n), np.where(y == 1, (3 * d) // 4, d // 5)] = 1.0
    return X, y


def test_tt_512_positions_trains_without_overflow():
    X, y = _marker_task(200, 512, seed=0)
    X = X[:, :, None]  # a series: 512 positions of one value, scaled alike ("shared")
    clf = TTNetworkClassifier(
        rank=4,
        n_features=4,
        max_iter=10,
        batch_size=32,
        learning_rate=1e-2,
        alpha=0.0,
        dropout=0.0,  # the class sits at one position: dropping it would hide the label
        dtype="float32",
        random_state=0,
        share_cores=False,  # the class is where the marker sits: a core per position
        n_members=1,  # one network's numerics (10 iterations: seeds 2 and 3 stay at chance)
    )
    clf.fit(X, y)
    assert np.all(np.isfinite(clf.loss_curve_))
    assert min(clf.loss_curve_) < 0.1  # a last-iteration divergence falls back to the lowest
    X_test, y_test = _marker_task(200, 512, seed=1)
    X_test = X_test[:, :, None]
    assert np.all(np.isfinite(clf.decision_function(X_test)))
    assert clf.score(X_test, y_test) >= 0.9
    # the generalized ReLU network stays finite too
    relu = clone(clf).set_params(xi="relu_max", max_iter=2).fit(X, y)
    assert np.all(np.isfinite(relu.loss_curve_))
    assert np.all(np.isfinite(relu.predict_proba(X_test)))
    # several members (the default below 512 samples) stay finite on 512 positions too
    members = clone(clf).set_params(n_members="auto", max_iter=2).fit(X, y)
    assert members.n_members_ == 4 and np.all(np.isfinite(members.loss_curve_))
    assert np.all(np.isfinite(members.predict_proba(X_test)))


def test_scale_is_carried_in_log_space():
    # scores far beyond float32's range still come out right (exp(L) * u in float64)
    X, y = _marker_task(40, 300, seed=0)
    clf = TTNetworkClassifier(
        rank=2, n_features=3, max_iter=1, dtype="float32", random_state=0
    ).fit(X, y)
    big = {k: v.copy() for k, v in clf._params.items()}
    big["core_middle"] = big["core_middle"] * 2.0  # the shared core: scores grow by 2 ** 298
    clf._params = big
    dec = clf.decision_function(X)
    assert np.all(np.isfinite(dec)) and np.abs(dec).max() > 1e60
    ref = np.asarray(clf.network_(clf.standardize(X)))
    np.testing.assert_allclose(ref, dec, rtol=1e-3, atol=1e-3 * np.abs(ref).max())


# --- backends ---------------------------------------------------------------------------


def test_training_after_tensorly_tensorflow_backend():
    X, y = make_moons(60, noise=0.1, random_state=0)
    before = TTNetworkClassifier(rank=4, max_iter=5, random_state=0).fit(X, y)
    te.set_backend("tensorflow")  # switches TF to NumPy behaviour, process-wide
    try:
        after = TTNetworkClassifier(rank=4, max_iter=5, random_state=0).fit(X, y)
        np.testing.assert_allclose(
            after.decision_function(X), before.decision_function(X), rtol=1e-6
        )
        big = np.tile(X, (5, 1))  # > 512 samples: the float32 / XLA path
        clf = CPNetworkClassifier(rank=4, max_iter=2, random_state=0).fit(big, np.tile(y, 5))
        assert np.all(np.isfinite(clf.loss_curve_))
    finally:
        te.set_backend("numpy")
    np.testing.assert_allclose(
        np.asarray(after.network_(after.standardize(X))),
        after.decision_function(X),
        rtol=1e-6,
    )


# --- scikit-learn workflows ----------------------------------------------------------------


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_pipeline_grid_search(n_jobs):
    X, y = load_digits(return_X_y=True)
    X, y = X[:240] / 16.0, y[:240]
    pipe = make_pipeline(
        ImagePatches(patch_size=2, image_shape=(8, 8)),
        TTNetworkClassifier(n_inputs=4, max_iter=10, random_state=0),
    )
    search = GridSearchCV(pipe, {"ttnetworkclassifier__rank": [2, 4]}, cv=2, n_jobs=n_jobs)
    search.fit(X, y)
    assert search.best_params_["ttnetworkclassifier__rank"] in (2, 4)
    assert search.score(X, y) > 0.3


def test_clone_pickle_and_reproducibility():
    X, y = _digit_patches(700)  # > 512 samples: float32, XLA-compiled training
    clf = TTNetworkClassifier(n_inputs=4, max_iter=3, random_state=0, dropout=0.1)
    clf.fit(X, y)
    assert clf._dtype == "float32"
    again = clone(clf).fit(X, y)
    np.testing.assert_array_equal(again.decision_function(X), clf.decision_function(X))
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.decision_function(X), clf.decision_function(X))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    assert clone(clf).get_params() == clf.get_params()
    # a pickled model keeps training (warm start, Adam state included)
    restored.set_params(warm_start=True, max_iter=1).fit(X, y)
    assert restored.n_iter_ == 4 and len(restored.loss_curve_) == 4


def test_partial_fit_and_warm_start():
    X, y = _digit_patches(300)
    clf = HTNetworkClassifier(n_inputs=4, random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:150], y[:150], classes=np.arange(10))
    clf.partial_fit(X[150:], y[150:])
    assert clf.n_iter_ == 2 and list(clf.classes_) == list(range(10))
    with pytest.raises(ValueError, match="not seen"):
        clf.partial_fit(X[:5], y[:5] + 20)
    reg = TTNetworkRegressor(max_iter=2, warm_start=True, random_state=0)
    Xs, score = _sequences(d=3, n_inputs=1)
    reg.fit(Xs, score).fit(Xs, score)
    assert reg.n_iter_ == 4
    reg.partial_fit(Xs, score)
    assert reg.n_iter_ == 5
    with pytest.raises(ValueError, match="warm_start and partial_fit continue the same"):
        reg.set_params(rank=3).fit(Xs, score)


def test_early_stopping_and_verbose(capsys):
    X, y = make_moons(200, noise=0.2, random_state=0)
    clf = CPNetworkClassifier(
        rank=8, early_stopping=True, n_iter_no_change=3, max_iter=50, verbose=2, random_state=0
    ).fit(X, y)
    out = capsys.readouterr().out
    assert "Epoch 1: loss = " in out and "validation score = " in out
    assert len(clf.validation_scores_) == clf.n_iter_ <= 50
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_verbose_1_shows_a_progress_bar_and_verbose_0_nothing(capsys):
    X, y = make_moons(200, noise=0.2, random_state=0)
    params = dict(rank=4, early_stopping=True, max_iter=4, random_state=0)
    CPNetworkClassifier(verbose=1, **params).fit(X, y)
    captured = capsys.readouterr()
    assert "CPNetworkClassifier" in captured.err and "4/4" in captured.err
    assert "loss=" in captured.err and "validation score=" in captured.err
    assert captured.out == ""
    CPNetworkClassifier(verbose=0, **params).fit(X, y)
    assert capsys.readouterr() == ("", "")


def test_plateau_schedule_lowers_the_step_before_stopping(capsys):
    X, y = make_moons(200, noise=0.2, random_state=0)
    params = dict(rank=4, n_iter_no_change=2, tol=10.0, max_iter=50, verbose=2, random_state=0)
    # tol=10: no epoch counts as an improvement, so every 2 epochs make a plateau
    plateau = CPNetworkClassifier(**params).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("Plateau: learning rate lowered to") == 2
    assert "lowered to 0.0006" in out and "lowered to 0.00012" in out
    # epoch 1 improves on nothing; plateaus end at epochs 3 and 5 (decays) and 7 (stop)
    assert plateau.n_iter_ == 7
    constant = CPNetworkClassifier(learning_rate_schedule="constant", **params).fit(X, y)
    assert constant.n_iter_ == 3


def test_early_stopping_auto_holds_out_from_10000_samples():
    X, y = make_moons(200, noise=0.2, random_state=0)
    small = TTNetworkClassifier(rank=2, max_iter=2).fit(X, y)
    assert not hasattr(small, "validation_scores_")  # "auto" below 10,000 samples: off
    big_X, big_y = np.tile(X, (50, 1)), np.tile(y, 50)
    big = TTNetworkClassifier(rank=2, max_iter=1, random_state=0).fit(big_X, big_y)
    assert len(big.validation_scores_) == 1


def test_dropout_auto_drops_windows_not_tabular_columns():
    X, y = _digit_patches(60)
    patches = TTNetworkClassifier(n_inputs=4, max_iter=1).fit(X, y)
    columns = TTNetworkClassifier(max_iter=1).fit(X[:, :8], y)  # 8 positions of one pixel
    assert (patches._position_dropout, columns._position_dropout) == (0.2, 0.0)
    assert TTNetworkClassifier(dropout=0.1, max_iter=1).fit(X, y)._position_dropout == 0.1


def test_trig_ignores_position_dropout():
    X, y = make_moons(60, noise=0.2, random_state=0)
    clf = TTNetworkClassifier(feature_map="trig", dropout=0.2, max_iter=2, random_state=0)
    plain = clone(clf).set_params(dropout=0.0).fit(X, y)
    assert clf.fit(X, y)._position_dropout == 0.0
    np.testing.assert_array_equal(clf.decision_function(X), plain.decision_function(X))


def test_sample_weight_zero_equals_removal_on_small_data():
    X, score = _sequences(n=40, d=3)
    y = score > np.median(score)
    w = np.r_[np.ones(30), np.zeros(10)]
    # deterministic full-batch training: no dropout masks, one batch either way
    params = dict(rank=3, max_iter=20, dropout=0.0, batch_size=64, random_state=0)
    a = TTNetworkClassifier(**params).fit(X, y, sample_weight=w)
    b = TTNetworkClassifier(**params).fit(X[:30], y[:30])
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X), rtol=1e-7)


@pytest.mark.parametrize("xi", ["product", "relu_max", "relu_sum", "max", "softplus"])
def test_moons_two_positions_learned(xi):
    X, y = make_moons(300, noise=0.1, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    # every operator learns two positions, with the settings this test was written for
    # (before the defaults of docs/estimators.md: no position dropout, which would hide half
    # the input, constant step, batch 64, patience 10)
    settings = dict(
        dropout=0.0,
        alpha=0.0,
        batch_size=64,
        learning_rate_schedule="constant",
        n_iter_no_change=10,
    )
    clf = TTNetworkClassifier(
        rank=8, n_features=16, xi=xi, learning_rate=2e-2, random_state=0, **settings
    ).fit(Xtr, ytr)
    assert clf.score(Xte, yte) >= 0.9


#: the experiment's digits settings (regularised: TT overfits quickly), at rank 16
DIGITS = dict(DIGITS_SETTINGS, rank=16)


@pytest.mark.slow
def test_digits_accuracy():
    X, y = _digit_patches()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    logistic = LogisticRegression(max_iter=2000).fit(Xtr, ytr).score(Xte, yte)
    scores = {}
    for cls in CLASSIFIERS:
        clf = cls(n_inputs=4, random_state=0, **DIGITS).fit(Xtr, ytr)
        scores[cls.__name__] = clf.score(Xte, yte)
    print(f"digits test accuracy: {scores}, LogisticRegression {logistic:.4f}")
    accuracy = scores["TTNetworkClassifier"]
    assert accuracy >= 0.98
    assert accuracy > logistic
    assert min(scores.values()) > 0.95


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(rank=0), "rank must be 'auto' or an int >= 1, got 0"),
        (dict(n_features=1), "n_features"),
        (dict(feature_map="sigmoid"), "feature_map must be one of"),
        (dict(xi="min"), "xi must be one of"),
        (dict(n_inputs=0), "n_inputs"),
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(validation_fraction=1.0), "validation_fraction"),
        (dict(early_stopping="yes"), "early_stopping must be True, False or 'auto'"),
        (dict(learning_rate_schedule="cosine"), "learning_rate_schedule"),
        (dict(dtype="float16"), "dtype"),
        (dict(dropout="yes"), "dropout must be 'auto' or a float in \\[0, 1\\), got 'yes'"),
        (dict(dropout=1.0), "dropout"),
    ],
)
def test_bad_parameters(params, match):
    X, y = make_moons(20, random_state=0)
    with pytest.raises(ValueError, match=match):
        TTNetworkClassifier(**params).fit(X, y)


@pytest.mark.parametrize("cls", CLASSIFIERS + REGRESSORS + [SequenceWindows])
def test_every_parameter_has_its_constraints(cls):
    # one table says what each parameter accepts; only random_state (any seed or
    # Generator, checked by check_random_state) and tree (checked against d at fit) are
    # left to their own checks
    table = cls._parameter_constraints
    assert set(cls().get_params()) - set(table) <= {"random_state", "tree"}
    assert set(table) <= set(cls().get_params())


@pytest.mark.parametrize(
    "params, error, match",
    [
        (dict(verbose="loud"), TypeError, "verbose must be an int >= 0, True or False"),
        (dict(warm_start=1), TypeError, "warm_start must be True or False, got 1"),
        (dict(alpha=-1.0), ValueError, r"alpha must be 'auto' or a float in \[0, inf\]"),
        (dict(scale="minmax"), ValueError, "scale must be one of"),
        (dict(n_inputs=2.0), TypeError, "n_inputs must be None or an int >= 1, got 2.0"),
    ],
)
def test_parameter_table_messages(params, error, match):
    X, y = make_moons(20, random_state=0)
    with pytest.raises(error, match=match):
        TTNetworkClassifier(**params).fit(X, y)


def test_parameters_of_a_wrong_type_raise_type_error():
    # one contract with tensorexpr: TypeError for a wrong type, ValueError for a wrong value
    X, y = make_moons(20, random_state=0)
    with pytest.raises(TypeError, match="rank must be 'auto' or an int >= 1, got 2.5"):
        TTNetworkClassifier(rank=2.5).fit(X, y)


def test_share_cores_is_one_core_repeated():
    X, y = _digit_patches(200)
    shared = TTNetworkClassifier(
        n_inputs=4, rank=3, n_features=4, n_members=1, max_iter=2, random_state=0
    )
    shared.fit(X, y)
    own = clone(shared).set_params(share_cores=False).fit(X, y)
    net = shared.network_
    assert all(np.array_equal(core, net.cores[1]) for core in net.cores[1:-1])
    # the 14 middle cores (3, 4, 3) of the 16 positions count once when shared
    assert own.n_params_ - shared.n_params_ == 13 * 3 * 4 * 3
    np.testing.assert_allclose(
        np.asarray(net(shared.standardize(X[:5]))), shared.decision_function(X[:5]), rtol=1e-4
    )
    with pytest.raises(TypeError, match="share_cores must be True or False, got 'yes'"):
        clone(shared).set_params(share_cores="yes").fit(X, y)
    with pytest.raises(ValueError, match="share_cores"):
        shared.set_params(warm_start=True, share_cores=False).fit(X, y)


def test_ht_share_cores_is_one_leaf_and_one_tensor_a_level():
    X, y = _digit_patches(200)
    shared = HTNetworkClassifier(
        n_inputs=4,
        rank=3,
        n_features=4,
        n_members=1,
        max_iter=2,
        share_cores=True,
        random_state=0,
    )
    shared.fit(X, y)
    own = clone(shared).set_params(share_cores=False).fit(X, y)
    net = shared.network_
    tree = net.tree
    leaves = [net.factors[tree.leaf(k)] for k in range(tree.d)]
    assert all(np.array_equal(leaf, leaves[0]) for leaf in leaves)
    # 16 positions, balanced: 15 internal nodes on 4 heights, the root its own
    assert {k for k in shared._params if not k.startswith("feature")} == {
        "leaf",
        "level_1",
        "level_2",
        "level_3",
        "node_" + "_".join(map(str, range(16))),
    }
    assert own.n_params_ - shared.n_params_ == 15 * 4 * 3 + (14 - 3) * 3 * 3 * 3
    np.testing.assert_allclose(
        np.asarray(net(shared.standardize(X[:5]))), shared.decision_function(X[:5]), rtol=1e-4
    )
    with pytest.raises(TypeError, match="share_cores must be True or False, got 1.5"):
        clone(shared).set_params(share_cores=1.5).fit(X, y)
    with pytest.raises(ValueError, match="share_cores"):
        shared.set_params(warm_start=True, share_cores=False).fit(X, y)


def test_cp_share_cores_is_one_factor_and_ignores_the_order():
    X, y = _digit_patches(200)
    shared = CPNetworkClassifier(
        n_inputs=4, rank=5, n_features=4, n_members=1, max_iter=2, share_cores=True, random_state=0
    )
    shared.fit(X, y)
    own = clone(shared).set_params(share_cores=False).fit(X, y)
    assert {k for k in shared._params if not k.startswith("feature")} == {"factor", "weights"}
    assert own.n_params_ - shared.n_params_ == 15 * 4 * 5  # 16 positions, one factor (4, 5)
    net = shared.network_
    assert all(np.array_equal(f, net.factors[0]) for f in net.factors)
    np.testing.assert_allclose(
        np.asarray(net(shared.standardize(X[:5]))), shared.decision_function(X[:5]), rtol=1e-4
    )
    flipped = X[:5].reshape(5, 16, 4)[:, ::-1].reshape(5, -1)  # the patches in reverse order
    np.testing.assert_allclose(
        shared.decision_function(flipped), shared.decision_function(X[:5]), rtol=1e-5
    )
    assert not CPNetworkClassifier().share_cores  # off by default: the position is lost
    with pytest.raises(ValueError, match="share_cores"):
        shared.set_params(warm_start=True, share_cores=False).fit(X, y)


def test_relu_units_dead_in_training_are_moved_through_the_mean_window():
    X, y = _digit_patches(120)
    clf = HTNetworkClassifier(n_inputs=4, rank=3, n_features=5, max_iter=1, random_state=0)
    clf.fit(X, y)
    assert clf._revives_units and not TTNetworkClassifier._revives_units
    seq = clf._standardized(clf._sequences(X, False))
    rows = seq.reshape(-1, 4)
    clf._params["feature_map.b"] = clf._params["feature_map.b"].copy()
    clf._params["feature_map.b"][:2] = -1e3  # units 0 and 1: 0 on every training window
    before = dict(clf._params)
    trainer = clf._load_trainer(len(seq))
    clf._revive_in_training(trainer, seq, np.ones(len(seq)))
    after = trainer.params()
    pre = rows @ after["feature_map.A"].T + after["feature_map.b"]
    assert (pre.max(axis=0) > 0).all()  # every unit alive again
    A = before["feature_map.A"]
    np.testing.assert_allclose(after["feature_map.b"][:2], -A[:2] @ rows.mean(axis=0))
    np.testing.assert_allclose(after["feature_map.b"][2:], before["feature_map.b"][2:])
    for name in before:  # nothing else moved
        if name != "feature_map.b":
            np.testing.assert_allclose(after[name], before[name])


def test_bad_inputs():
    X, y = make_moons(30, random_state=0)
    clf = TTNetworkClassifier(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        clf.fit(X[:, 0], y)
    with pytest.raises(
        ValueError, match="X has 3 features, but TTNetworkClassifier is expecting 2 features"
    ):
        clf.predict(np.ones((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(np.where(X > 0.5, np.nan, X), y)
    with pytest.raises(ValueError, match="n_inputs=3 must divide the number of features"):
        TTNetworkClassifier(n_inputs=3).fit(np.ones((10, 8)), np.arange(10) % 2)
    with pytest.raises(ValueError, match="values per position but n_inputs=2"):
        TTNetworkClassifier(n_inputs=2).fit(np.ones((10, 4, 3)), np.arange(10) % 2)
    with pytest.raises(ValueError, match="was fitted on"):
        TTNetworkClassifier(max_iter=1).fit(np.ones((10, 4, 3)), np.arange(10) % 2).predict(
            np.ones((2, 4, 2))
        )
    with pytest.raises(ValueError, match="string|numeric"):
        TTNetworkRegressor().fit(X, np.array(["a", "b", "c"] * 10))
    with pytest.raises(ValueError, match="at least 2 classes"):
        TTNetworkClassifier().fit(X, np.zeros(30))
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        TTNetworkClassifier().fit(X, y, sample_weight=np.ones(5))


# --- ImagePatches -------------------------------------------------------------------------


def test_image_patches_layout():
    images = np.arange(2 * 4 * 6, dtype=float).reshape(2, 4, 6)
    patches = ImagePatches(patch_size=2).fit(images)
    out = patches.transform(images)
    assert (patches.n_patches_, patches.patch_dim_) == (6, 4)
    assert out.shape == (2, 24)
    np.testing.assert_array_equal(out[0, :8], [0, 1, 6, 7, 2, 3, 8, 9])
    flat = ImagePatches(patch_size=2, image_shape=(4, 6)).fit_transform(images.reshape(2, -1))
    np.testing.assert_array_equal(flat, out)
    # channels last: a patch is (height, width, channels)
    rgb = np.stack([images, -images], axis=3)
    out_rgb = ImagePatches(patch_size=2).fit_transform(rgb)
    np.testing.assert_array_equal(out_rgb[0, :8], [0, 0, 1, -1, 6, -6, 7, -7])
    # overlapping windows, and zero padding where the patches pass the border
    over = ImagePatches(patch_size=(2, 3), stride=(2, 2)).fit(images)
    assert over.n_patches_ == 2 * 3 and over.transform(images).shape == (2, 36)
    padded = ImagePatches(patch_size=3).fit_transform(images)
    assert padded.shape == (2, 4 * 9) and padded[0, -1] == 0.0
    # one-row images (signals): windows of p values
    np.testing.assert_array_equal(
        ImagePatches(patch_size=2).fit_transform(np.arange(4.0)[None]), [[0.0, 1.0, 2.0, 3.0]]
    )


def test_image_patches_errors():
    with pytest.raises(ValueError, match="image_shape"):
        ImagePatches(image_shape=(3, 3)).fit(np.ones((2, 16)))
    with pytest.raises(ValueError, match="patch_size"):
        ImagePatches(patch_size=0).fit(np.ones((2, 4, 4)))
    with pytest.raises(ValueError, match="X must be"):
        ImagePatches().fit(np.ones((2, 2, 2, 2, 2)))


# --- the experiment -------------------------------------------------------------------------


def test_training_experiment_quick(tmp_path):
    result = TRAINING.run(quick=True, seed=0)
    assert result.name == "training" == TRAINING.name
    networks = {row["network"] for row in result.rows if row["dataset"] == "digits"}
    assert networks == {"TT", "CP", "HT"}
    for row in result.rows:
        assert 0.0 <= row["test_accuracy"] <= 1.0 and row["n_params"] > 0
    assert result.summary["best_digits_accuracy"]["TT"] > 0.8
    path = tmp_path / "training.png"
    TRAINING.plot(result, path)
    assert path.stat().st_size > 1000
    result.save(tmp_path)


def test_dataframe_feature_names():
    import pandas as pd  # in the test extra: a missing pandas is a failure, not a skip

    X, y = make_moons(30, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b"])
    clf = CPNetworkClassifier(rank=2, max_iter=2, random_state=0).fit(frame, y)
    assert list(clf.feature_names_in_) == ["a", "b"]
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(pd.DataFrame(X, columns=["b", "a"]))
