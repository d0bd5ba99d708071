"""Several members trained side by side (``n_members``): the mean of their scores is one
network, checked against the members' own networks; fitting, errors, persistence."""

from __future__ import annotations

import os
import pickle
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import tensorexpr as te  # noqa: E402
from estimators import (  # noqa: E402
    CPNetworkClassifier,
    CPNetworkRegressor,
    HTNetworkClassifier,
    HTNetworkRegressor,
    TTNetworkClassifier,
    TTNetworkRegressor,
)
from tensorexpr import engine  # noqa: E402
from tensorexpr.features import split_prefixed  # noqa: E402


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _sequences(n=90, d=5, n_inputs=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, d, n_inputs))
    return X, X[:, ::2, 0].sum(axis=1) - X[:, 1::2, -1].sum(axis=1)


def _member_networks(est):
    """Each member as its own network: the slow path the merged network is checked against."""
    net, learned = split_prefixed(est._params)
    fmap = est._feature_map.with_params(**learned) if learned else est._feature_map
    one, index = engine.member_spec(est._spec), est._spec.member_features
    out = []
    for i in range(est._spec.members):
        own = fmap
        if index is not None:  # member i's own map: its units, then the constant
            units = list(index[i][:-1])
            assert index[i][-1] == fmap.constant_index
            own = fmap.with_params(A=fmap.A[units], b=fmap.b[units])
        out.append(engine.to_network(one, {k: v[i] for k, v in net.items()}, own))
    return out


CASES = [
    (TTNetworkClassifier, {}, 3),
    (TTNetworkClassifier, {"share_cores": False}, 2),
    (CPNetworkClassifier, {}, 3),
    (CPNetworkClassifier, {"xi": "relu_max"}, 2),
    (CPNetworkClassifier, {"share_cores": True}, 3),
    (HTNetworkClassifier, {}, 3),
    (HTNetworkClassifier, {"tree": "linear"}, 2),
    (HTNetworkClassifier, {"share_cores": False}, 3),  # the default shares: a tensor per node
    (TTNetworkClassifier, {"feature_map": "poly"}, 2),  # no learned map: one shared f
]


@pytest.mark.parametrize("cls, kwargs, n_classes", CASES)
def test_network_is_the_mean_of_the_members(cls, kwargs, n_classes):
    X, score = _sequences()
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    clf = cls(rank=3, n_features=4, n_members=3, max_iter=3, random_state=0, **kwargs)
    clf.fit(X, y)
    Z = clf.standardize(X)
    members = [np.asarray(m(Z)) for m in _member_networks(clf)]
    mean = np.mean(members, axis=0)
    assert not np.allclose(members[0], members[1])  # the members differ
    net = clf.network_
    assert 9 in net.ranks  # three members of rank 3, side by side
    out = np.asarray(net(Z))
    dec = clf.decision_function(X)
    scale = np.abs(mean).max()
    np.testing.assert_allclose(out, mean, rtol=1e-8, atol=1e-8 * scale)
    np.testing.assert_allclose(dec, mean, rtol=1e-6, atol=1e-6 * scale)


@pytest.mark.parametrize("cls", [TTNetworkRegressor, CPNetworkRegressor, HTNetworkRegressor])
def test_regressor_members_fit_and_export(cls):
    X, score = _sequences(seed=1)
    reg = cls(rank=3, n_features=4, n_members=2, max_iter=40, random_state=0).fit(X, score)
    assert reg.score(X, score) > 0.5
    pred = reg.predict(X)
    out = reg.y_mean_ + reg.y_scale_ * np.asarray(reg.network_(reg.standardize(X)))
    np.testing.assert_allclose(out, pred, rtol=1e-6, atol=1e-6 * np.abs(pred).max())
    assert reg.n_params_ == sum(np.size(v) for v in reg._params.values())


def test_tt_merge_is_block_diagonal_rank():
    X, score = _sequences(d=4)
    clf = TTNetworkClassifier(rank=2, n_features=3, n_members=3, max_iter=2, random_state=0)
    clf.fit(X, score > 0)
    assert clf.network_.ranks == (1, 6, 6, 6, 1)


def test_one_member_has_no_member_axis():
    X, score = _sequences(seed=2)
    clf = TTNetworkClassifier(rank=3, n_features=4, n_members=1, max_iter=3, random_state=0)
    clf.fit(X, score > 0)
    shapes = te.networks.layout_of("tt").shapes(clf._spec)  # the layout's own shapes
    assert {k: clf._params[k].shape for k in shapes} == shapes


@pytest.mark.parametrize("cls", [TTNetworkClassifier, HTNetworkClassifier])
def test_members_need_the_product_for_tt_and_ht(cls):
    X, score = _sequences()
    with pytest.raises(ValueError, match=r"n_members=2 needs xi='product'"):
        cls(n_members=2, xi="relu_max", max_iter=1).fit(X, score > 0)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "4", True])
def test_n_members_must_be_a_positive_int(bad):
    X, score = _sequences()
    with pytest.raises((ValueError, TypeError), match="n_members must be"):
        TTNetworkClassifier(n_members=bad, max_iter=1).fit(X, score > 0)


def test_warm_start_keeps_the_number_of_members():
    X, score = _sequences()
    clf = TTNetworkClassifier(rank=2, n_members=2, max_iter=2, warm_start=True, random_state=0)
    clf.fit(X, score > 0)
    clf.set_params(n_members=3)
    with pytest.raises(ValueError, match="n_members"):
        clf.fit(X, score > 0)
    clf.set_params(n_members=2)
    clf.fit(X, score > 0)  # continues


def test_members_pickle_and_partial_fit():
    X, score = _sequences()
    clf = CPNetworkClassifier(rank=3, n_members=2, max_iter=3, random_state=0).fit(X, score > 0)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    before = clf.decision_function(X)
    clf.partial_fit(X, score > 0)
    assert not np.allclose(clf.decision_function(X), before)
    assert te.CPNetwork is type(clf.network_)


def test_members_learn_their_own_features():
    """A learned map (relu, linear) holds one block of features per member and the shared
    constant; a fixed map (trig, poly) is read whole by every member."""
    X, y = _sequences()
    reg = TTNetworkRegressor(rank=2, n_features=4, n_members=3, max_iter=2, random_state=0)
    reg.fit(X, y)
    fmap, index = reg._feature_map, reg._spec.member_features
    assert fmap.n_features == 3 * (4 - 1) + 1 and reg._spec.m == 4
    units = [set(block[:-1]) for block in index]
    assert set().union(*units) == set(range(fmap.n_features)) - {fmap.constant_index}
    assert sum(map(len, units)) == 9  # disjoint blocks of 3
    assert all(block[-1] == fmap.constant_index for block in index)
    assert reg.network_.feature_map.n_features == 10  # the merged network reads the one map
    shared = TTNetworkRegressor(rank=2, n_members=3, feature_map="trig", max_iter=2)
    shared.fit(X, y)
    assert shared._spec.member_features is None
    assert shared.network_.feature_map.n_features == shared._feature_map.n_features


@pytest.mark.parametrize(
    "cls, n_samples, members, rank",
    [
        (TTNetworkClassifier, 90, 4, 12),
        (TTNetworkClassifier, 600, 1, 24),
        (CPNetworkRegressor, 90, 4, 8),
        (HTNetworkRegressor, 600, 1, 16),
    ],
)
def test_auto_members_and_rank_follow_the_training_set_size(cls, n_samples, members, rank):
    X, score = _sequences(n=n_samples, d=3)
    y = score > 0 if cls is TTNetworkClassifier else score
    est = cls(max_iter=1, random_state=0).fit(X, y)
    assert (est.n_members_, est.rank_) == (members, rank)
    assert est._spec.members == members and est._spec.rank == rank
    assert est.get_params()["n_members"] == "auto"  # the parameter is left as given


def test_auto_members_fall_back_to_one_network_where_they_do_not_merge():
    X, score = _sequences(d=3)
    tt = TTNetworkClassifier(xi="relu_max", max_iter=1, random_state=0).fit(X, score > 0)
    assert (tt.n_members_, tt.rank_) == (1, 24)
    cp = CPNetworkClassifier(xi="relu_max", max_iter=1, random_state=0).fit(X, score > 0)
    assert (cp.n_members_, cp.rank_) == (4, 8)  # CP units add up for any xi


@pytest.mark.parametrize("d, shared", [(5, True), (5, False), (70, True), (70, False)])
def test_tt_members_run_batched_like_one_network_each(d, shared):
    """The batched TT recursion (a leading member axis, no vectorized_map) against each
    member run alone; d = 70 takes the tf.scan path."""
    tf = engine.import_tensorflow()
    spec = engine.NetworkSpec(
        kind="tt", xi="product", d=d, m=3, rank=2, n_outputs=2, shared_cores=shared, members=3
    )
    rng = np.random.default_rng(0)
    params = engine.init_params(spec, rng, 2)
    F = tf.constant(rng.uniform(size=(4, d, 3)))
    v, L = engine.member_scores(spec, {k: tf.constant(x) for k, x in params.items()}, F)
    one = engine.member_spec(spec)
    for k in range(3):
        vk, Lk = engine.scores(one, {n: tf.constant(x[k]) for n, x in params.items()}, F)
        np.testing.assert_allclose(
            np.exp(L[k].numpy())[:, None] * v[k].numpy(),
            np.exp(Lk.numpy())[:, None] * vk.numpy(),
            rtol=1e-10,
        )
