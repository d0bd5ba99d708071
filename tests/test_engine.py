"""tensorexpr.engine against the tensorly networks (an independent implementation): scores,
grid tensors, any tree; the bounded cache; the HT estimators' ``tree``."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import tensorexpr as te
from tensorexpr import engine, operators
from tensorexpr.networks import layout_of
from tensorexpr.networks.ht import node_heights

OPERATORS = ["product", "relu_max", "relu_sum", "softplus", "max"]
TREES = [None, ((0, 1), (2, (3, 4))), (((0, 1), 2), (3, 4)), ((0, 3), ((1, 4), 2))]


def _spec(kind, xi, d=5, tree=None, hidden_size=None, n_outputs=1):
    if kind == "ht" and tree is None:
        tree = te.DimensionTree.balanced(d).structure
    return engine.NetworkSpec(kind, xi, d, 3, 2, n_outputs, tree, hidden_size)


def _random_params(spec, seed=0):
    rng = np.random.default_rng(seed)
    params = engine.init_params(spec, rng, constant_index=None)
    # away from the near-identity start: every entry matters
    params = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in params.items()}
    return params


@pytest.mark.parametrize("xi", OPERATORS)
@pytest.mark.parametrize("kind", ["cp", "tt", "ht"])
def test_scores_equal_the_tensorly_network(kind, xi):
    tf = engine.import_tensorflow()
    spec = _spec(kind, xi, n_outputs=2)
    params = _random_params(spec)
    fmap = te.PolynomialFeatures(1, degree=2)
    net = engine.to_network(spec, params, fmap)
    X = np.random.default_rng(1).uniform(size=(7, spec.d, 1))
    F = engine.feature_form(fmap, tf.constant(X))
    v, L = engine.scores(spec, {k: tf.constant(a) for k, a in params.items()}, F)
    got = np.exp(L.numpy())[:, None] * v.numpy()
    np.testing.assert_allclose(got, np.asarray(net(X)), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("tree", TREES[1:])
@pytest.mark.parametrize("xi", ["product", "relu_max"])
def test_ht_on_any_tree(tree, xi):
    tf = engine.import_tensorflow()
    spec = _spec("ht", xi, tree=tree)
    params = _random_params(spec, seed=2)
    net = engine.to_network(spec, params, te.LinearFeatures.identity(3))
    assert net.tree.structure == tree
    grid = engine.grid(
        spec, {k: tf.constant(a) for k, a in params.items()}, tf.eye(3, dtype=tf.float64)
    )
    np.testing.assert_allclose(
        grid.numpy().reshape((3,) * 5), np.asarray(net.grid_tensor(np.eye(3))), rtol=1e-10
    )


@pytest.mark.parametrize("kind", ["cp", "tt"])
@pytest.mark.parametrize("xi", OPERATORS)
def test_grid_equals_the_tensorly_grid_tensor(kind, xi):
    tf = engine.import_tensorflow()
    spec = _spec(kind, xi, d=3, hidden_size=4 if kind == "tt" else None)
    params = _random_params(spec, seed=3)
    net = engine.to_network(spec, params, te.LinearFeatures.identity(3))
    grid = engine.grid(
        spec, {k: tf.constant(a) for k, a in params.items()}, tf.eye(3, dtype=tf.float64)
    )
    np.testing.assert_allclose(
        grid.numpy().reshape((3,) * 3), np.asarray(net.grid_tensor(np.eye(3))), rtol=1e-10
    )


@pytest.mark.parametrize("xi", ["product", "relu_max"])
@pytest.mark.parametrize("d", [2, 3, 6, 70])  # 70: the tf.scan loop beyond UNROLL_MAX
def test_shared_cores_are_the_repeated_core(xi, d):
    tf = engine.import_tensorflow()
    shared = engine.NetworkSpec("tt", xi, d, 3, 2, 2, shared_cores=True)
    params = _random_params(shared, seed=3)
    assert set(params) == set(engine.param_names(shared))
    assert (d <= 2) == ("core_middle" not in params)
    if d <= 2:  # no middle core: sharing changes nothing
        return
    # the unshared spec with the core repeated, and the tensorly network: two other paths
    repeated = {k: v for k, v in params.items() if k != "core_middle"}
    if d > 2:
        repeated["cores_middle"] = np.stack([params["core_middle"]] * (d - 2))
    plain = engine.NetworkSpec("tt", xi, d, 3, 2, 2)
    net = engine.to_network(shared, params, te.PolynomialFeatures(1, degree=2))
    assert all(np.array_equal(c, net.cores[1]) for c in net.cores[1:-1])
    X = np.random.default_rng(4).uniform(size=(5, d, 1))
    F = engine.feature_form(te.PolynomialFeatures(1, degree=2), tf.constant(X))

    def run(spec, values):
        v, L = engine.scores(spec, {k: tf.constant(a) for k, a in values.items()}, F)
        return np.exp(L.numpy())[:, None] * v.numpy()

    np.testing.assert_allclose(run(shared, params), run(plain, repeated), rtol=1e-12)
    np.testing.assert_allclose(run(shared, params), np.asarray(net(X)), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("xi", ["product", "relu_max"])
@pytest.mark.parametrize(
    "d, tree", [(2, "balanced"), (7, "balanced"), (19, "balanced"), (5, "linear")]
)
def test_shared_ht_is_the_repeated_leaf_and_levels(xi, d, tree):
    """HT with shared_cores: one leaf and one transfer tensor per height, against the unshared
    spec holding the copies and the tensorly network, in the scores and the grid."""
    tf = engine.import_tensorflow()
    structure = (
        te.DimensionTree.balanced(d) if tree == "balanced" else te.DimensionTree.linear(d)
    ).structure
    shared = engine.NetworkSpec("ht", xi, d, 3, 2, 2, tree=structure, shared_cores=True)
    plain = engine.NetworkSpec("ht", xi, d, 3, 2, 2, tree=structure)
    params = _random_params(shared, seed=7)
    assert set(params) == set(engine.param_names(shared))
    assert "leaf" in params and "leaves" not in params
    dimension_tree = shared.dimension_tree()
    heights = node_heights(dimension_tree)
    n_levels = len({heights[n] for n in dimension_tree.internal_nodes}) - 1
    assert sum(k.startswith("level_") for k in params) == n_levels
    net = engine.to_network(shared, params, te.PolynomialFeatures(1, degree=2))
    repeated = layout_of("ht").params_of(net)
    assert all(np.array_equal(repeated["leaves"][k], params["leaf"]) for k in range(d))
    X = np.random.default_rng(8).uniform(size=(5, d, 1))
    F = engine.feature_form(te.PolynomialFeatures(1, degree=2), tf.constant(X))

    def run(spec, values):
        v, L = engine.scores(spec, {k: tf.constant(a) for k, a in values.items()}, F)
        return np.exp(L.numpy())[:, None] * v.numpy()

    np.testing.assert_allclose(run(shared, params), run(plain, repeated), rtol=1e-12)
    np.testing.assert_allclose(run(shared, params), np.asarray(net(X)), rtol=1e-9, atol=1e-12)
    if d <= 7:  # the grid on one-hot templates, against the tensorly network's
        _assert_grid_is_the_networks(replace(shared, n_outputs=1), seed=9)


def _assert_grid_is_the_networks(spec, seed):
    """The engine's grid on one-hot templates (M = 3) against the tensorly network's."""
    tf = engine.import_tensorflow()
    params = _random_params(spec, seed=seed)
    grid = engine.grid(
        spec, {k: tf.constant(a) for k, a in params.items()}, tf.eye(3, dtype=tf.float64)
    )
    net = engine.to_network(spec, params, te.LinearFeatures.identity(3))
    np.testing.assert_allclose(
        grid.numpy().reshape((3,) * spec.d), np.asarray(net.grid_tensor(np.eye(3))), rtol=1e-9
    )


@pytest.mark.parametrize("xi", ["product", "relu_max"])
@pytest.mark.parametrize("d", [1, 2, 6])
def test_shared_cp_is_the_repeated_factor(xi, d):
    """CP with shared_cores: one factor (m, R) for every position, against the unshared spec
    holding d copies and the tensorly network, in the scores and the grid; the score is then
    a symmetric function of the positions."""
    tf = engine.import_tensorflow()
    shared = engine.NetworkSpec("cp", xi, d, 3, 4, 2, shared_cores=True)
    plain = engine.NetworkSpec("cp", xi, d, 3, 4, 2)
    params = _random_params(shared, seed=3)
    assert set(params) == {"factor", "weights"} and params["factor"].shape == (3, 4)
    net = engine.to_network(shared, params, te.PolynomialFeatures(1, degree=2))
    repeated = layout_of("cp").params_of(net)
    assert all(np.array_equal(repeated["factors"][k], params["factor"]) for k in range(d))
    X = np.random.default_rng(4).uniform(size=(5, d, 1))
    F = engine.feature_form(te.PolynomialFeatures(1, degree=2), tf.constant(X))

    def run(spec, values, F=F):
        v, L = engine.scores(spec, {k: tf.constant(a) for k, a in values.items()}, F)
        return np.exp(L.numpy())[:, None] * v.numpy()

    np.testing.assert_allclose(run(shared, params), run(plain, repeated), rtol=1e-12)
    np.testing.assert_allclose(run(shared, params), np.asarray(net(X)), rtol=1e-9, atol=1e-12)
    reversed_F = engine.feature_form(te.PolynomialFeatures(1, degree=2), tf.constant(X[:, ::-1]))
    np.testing.assert_allclose(run(shared, params, reversed_F), run(shared, params), rtol=1e-9)
    _assert_grid_is_the_networks(replace(shared, n_outputs=1), seed=5)


def test_shared_core_gradient_is_the_sum_over_positions():
    tf = engine.import_tensorflow()
    d = 5
    shared = engine.NetworkSpec("tt", "product", d, 3, 2, 1, shared_cores=True)
    plain = engine.NetworkSpec("tt", "product", d, 3, 2, 1)
    params = _random_params(shared, seed=5)
    F = tf.constant(np.random.default_rng(6).uniform(size=(4, d, 3)))
    core = tf.Variable(params["core_middle"])
    with tf.GradientTape() as tape:
        v, L = engine.scores(shared, dict(params, core_middle=core), F)
        total = tf.reduce_sum(tf.exp(L)[:, None] * v)
    got = tape.gradient(total, core).numpy()
    stacked = tf.Variable(np.stack([params["core_middle"]] * (d - 2)))
    rest = {k: v for k, v in params.items() if k != "core_middle"}
    with tf.GradientTape() as tape:
        v, L = engine.scores(plain, dict(rest, cores_middle=stacked), F)
        total = tf.reduce_sum(tf.exp(L)[:, None] * v)
    np.testing.assert_allclose(got, tape.gradient(total, stacked).numpy().sum(0), rtol=1e-10)


def test_long_sequences_stay_in_scale():
    # 500 positions of a relu_max TT: the plain product of the states would overflow float64
    tf = engine.import_tensorflow()
    spec = engine.NetworkSpec("tt", "relu_max", 500, 3, 2, 1)
    params = {k: 3.0 * np.abs(v) for k, v in _random_params(spec).items()}
    F = tf.constant(np.full((2, 500, 3), 4.0))
    v, L = engine.scores(spec, {k: tf.constant(a) for k, a in params.items()}, F)
    assert np.all(np.isfinite(v.numpy())) and np.all(L.numpy() > 710)  # exp(L) > float64 max


def test_the_cache_is_bounded():
    engine.clear_cache()
    for k in range(engine.MAX_ENTRIES + 10):
        engine.cached(("test", k), lambda k=k: k)
    assert engine.cache_size() == engine.MAX_ENTRIES
    assert engine.cached(("test", engine.MAX_ENTRIES + 9), lambda: None) == engine.MAX_ENTRIES + 9
    engine.clear_cache()
    assert engine.cache_size() == 0


def test_bucket_sizes():
    sizes = [engine.bucket(n) for n in range(1, 300)]
    assert sizes[:8] == [8] * 8 and engine.bucket(0) == 8
    assert [engine.bucket(n) for n in (9, 11, 13, 15, 17, 33, 41, 65)] == [
        10,
        12,
        14,
        16,
        20,
        40,
        48,
        80,
    ]
    for n, b in zip(range(1, 300), sizes, strict=True):
        assert n <= b <= max(8, 1.25 * n) and engine.bucket(b) == b


def _epochs(trainer, n, params, epochs=3, batch=5):
    """``epochs`` epochs on the first ``n`` of 40 fixed samples, mini-batches of ``batch``
    (the last one padded with weight-0 samples, as the estimators pad it)."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((40, 4, 1))[:n], rng.standard_normal(40)[:n]
    trainer.load(params, None, 0.05)
    X_t, y_t = trainer.constants(X, y)
    losses = []
    for e in range(epochs):
        order = np.random.default_rng(e).permutation(n)
        order = np.concatenate([order, np.zeros(-n % batch, int)])
        w = (np.arange(len(order)) < n).astype(float).reshape(-1, batch)
        losses.append(trainer.run_epoch(X_t, y_t, order.reshape(-1, batch), w, 1e-3, 0.0, [0, e]))
    return losses, trainer.params()


def test_xla_epochs_on_padded_shapes_equal_the_plain_ones():
    # the XLA epoch pads the samples, the number of batches and a short batch to bucket
    # sizes: the same steps as the graph without padding, and nearby sizes share one trace
    spec = engine.NetworkSpec("tt", "product", 4, 3, 2)
    fmap = te.PolynomialFeatures(1, degree=2)
    params = engine.init_params(spec, np.random.default_rng(0), fmap.constant_index)
    plain = engine.NetworkTrainer(spec, fmap, "squared", False, "float64", jit=False)
    xla = engine.NetworkTrainer(spec, fmap, "squared", False, "float64", jit=True)
    for n, batch in ((13, 5), (14, 5), (13, 10)):
        want_losses, want = _epochs(plain, n, params, batch=batch)
        got_losses, got = _epochs(xla, n, params, batch=batch)
        np.testing.assert_allclose(got_losses, want_losses, rtol=1e-10)
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-9, atol=1e-12)
    # 13 and 14 samples in batches of 5: 14 rows, 3 batches of 5 padded to 8 of 8, one
    # trace; batches of 10: 2 batches padded to 8 of 10, a second trace
    assert xla._epoch.experimental_get_tracing_count() == 2


@pytest.mark.parametrize("tree", ["linear", ((0, 2), (1, (3, 4)))])
def test_ht_estimator_tree_and_export(tree):
    from estimators import HTNetworkClassifier

    rng = np.random.default_rng(0)
    X = rng.uniform(size=(60, 5))
    y = (X[:, 0] + X[:, 3] > 1).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = HTNetworkClassifier(rank=3, max_iter=3, tree=tree, random_state=0).fit(X, y)
    net = clf.network_
    expected = te.DimensionTree.linear(5) if tree == "linear" else te.DimensionTree(tree)
    assert net.tree == expected
    np.testing.assert_allclose(
        np.asarray(net(clf.standardize(X))), clf.decision_function(X), rtol=1e-6, atol=1e-9
    )


def test_ht_estimator_bad_tree():
    from estimators import HTNetworkRegressor

    X = np.random.default_rng(0).uniform(size=(20, 4))
    with pytest.raises(ValueError, match="tree must be one of"):
        HTNetworkRegressor(tree="deep").fit(X, X[:, 0])
    with pytest.raises(ValueError, match="tree must have the d=4 positions"):
        HTNetworkRegressor(tree=((0, 1), 2)).fit(X, X[:, 0])
    with pytest.raises(TypeError, match="tree must be"):
        HTNetworkRegressor(tree=1.5).fit(X, X[:, 0])


FEATURE_MAPS = [
    te.ReLUFeatures(2, 4, append_constant=True, random_state=0),
    te.LinearFeatures(2, 3, random_state=1),
    te.TrigFeatures(2),
    te.PolynomialFeatures(2, degree=3),
]


@pytest.mark.parametrize("fmap", FEATURE_MAPS, ids=lambda f: type(f).__name__)
def test_feature_forms_equal_the_tensorly_maps(fmap):
    tf = engine.import_tensorflow()
    X = np.random.default_rng(2).uniform(-1, 1, size=(6, 3, 2))
    got = engine.feature_form(fmap, tf.constant(X)).numpy()
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.reshape(-1, fmap.n_features), fmap(X.reshape(-1, 2)))
    # the learned parameters given as tensors replace the map's own
    learned = {k: 2.0 * v for k, v in fmap.trainable_params().items()}
    given = engine.feature_form(
        fmap, tf.constant(X), {k: tf.constant(v) for k, v in learned.items()}
    )
    expected = fmap.with_params(**learned)(X.reshape(-1, 2)) if learned else fmap(X.reshape(-1, 2))
    np.testing.assert_allclose(given.numpy().reshape(-1, fmap.n_features), expected)


@pytest.mark.parametrize("fmap", FEATURE_MAPS, ids=lambda f: type(f).__name__)
def test_tf_call_is_deprecated_and_gives_the_feature_form(fmap):
    tf = engine.import_tensorflow()
    X = tf.constant(np.random.default_rng(3).uniform(size=(4, 2)))
    with pytest.warns(FutureWarning, match=r"FeatureMap.tf_call .*engine.feature_form") as caught:
        old = fmap.tf_call(X)
    assert caught[0].filename == __file__  # the warning points at the caller's line
    np.testing.assert_array_equal(old.numpy(), engine.feature_form(fmap, X).numpy())


class _Squares(te.FeatureMap):
    """A user's map with its own TensorFlow form (the hook ``_tf_transform``)."""

    def __init__(self, n_inputs=1):
        self.n_inputs, self.n_features = n_inputs, 2 * n_inputs

    def _transform(self, x):
        import tensorly as tl

        return tl.concatenate([x, x * x], axis=1)

    def _tf_transform(self, tf, x, params):
        return tf.concat([x, x * x], axis=-1)

    def get_params(self):
        return {"n_inputs": self.n_inputs}


class _NumpyOnly(te.FeatureMap):
    def __init__(self):
        self.n_inputs, self.n_features = 1, 2

    def _transform(self, x):
        return np.concatenate([x, np.cos(x)], axis=1)

    def get_params(self):
        return {}


def test_a_user_feature_map_gives_its_form_by_the_hook():
    tf = engine.import_tensorflow()
    X = np.array([[1.0], [-2.0]])
    np.testing.assert_array_equal(engine.feature_form(_Squares(), tf.constant(X)), _Squares()(X))
    # a subclass of a built-in map without a hook of its own keeps the built-in form
    sub = type("MyTrig", (te.TrigFeatures,), {})(1)
    np.testing.assert_allclose(engine.feature_form(sub, tf.constant(X)), sub(X))


def test_a_user_feature_map_without_a_tensorflow_form_is_named():
    tf = engine.import_tensorflow()
    X = tf.constant(np.ones((3, 1)))
    with pytest.raises(TypeError, match=r"feature map _NumpyOnly .*define _tf_transform\(self"):
        engine.feature_form(_NumpyOnly(), X)
    # the same error where the engine trains through it
    spec = engine.NetworkSpec("cp", "product", 3, 2, 2, 1)
    fn = engine.scores_function(spec, _NumpyOnly(), "float64")
    values = engine.init_params(spec, np.random.default_rng(0), None)
    params = [tf.constant(values[k]) for k in engine.param_names(spec)]
    with pytest.raises(TypeError, match="_NumpyOnly.*_tf_transform"):
        fn(params, [], tf.constant(np.ones((2, 3, 1))))


@pytest.mark.parametrize("xi", OPERATORS)
def test_operator_forms_equal_the_tensorly_operators(xi):
    tf = engine.import_tensorflow()
    op = te.get_operator(xi)
    # the built-ins register no TensorFlow form: the engine owns theirs
    assert op.tf_function is None and op.tf_smoothed is None
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((5, 1)), rng.standard_normal((1, 4))
    got = engine.operator_form(op)(tf.constant(x), tf.constant(y)).numpy()
    np.testing.assert_allclose(got, op(x, y), rtol=1e-12)
    assert engine.operator_form(xi) is engine.operator_form(op)
    smoothed = engine.smoothed_form(op)
    assert (smoothed is not None) == (xi in ("relu_max", "max"))
    if smoothed is not None:  # exact at tau = 0
        at_zero = smoothed(tf.constant(x), tf.constant(y), tf.constant(0.0, tf.float64))
        np.testing.assert_allclose(at_zero.numpy(), op(x, y), rtol=1e-12)


def test_a_user_operator_keeps_what_it_registered(monkeypatch):
    tf = engine.import_tensorflow()
    calls = []

    def tf_xi(x, y):
        calls.append(1)
        return tf.maximum(x, y)

    def smooth(x, y, tau):
        return tf.maximum(x, y)

    op = te.register_operator(
        "eng_user_max", lambda x, y: x + y, tf_function=tf_xi, tf_smoothed=smooth, replace=True
    )
    assert op.tf_function is tf_xi and op.tf_smoothed is smooth
    assert engine.smoothed_form(op) is smooth
    form = engine.operator_form(op)
    assert form is engine.operator_form("eng_user_max")  # built once
    np.testing.assert_array_equal(form(tf.constant([1.0]), tf.constant([3.0])).numpy(), [3.0])
    assert calls
    # one of a built-in's names, replaced, is a user's operator (the guarded form)
    monkeypatch.setitem(operators._REGISTRY, "relu_sum", te.get_operator("relu_sum"))
    mine = te.register_operator("relu_sum", lambda x, y: np.hypot(x, y), replace=True)
    with pytest.raises(TypeError, match="'relu_sum'.*function"):
        tf.function(engine.operator_form(mine))(tf.ones(2), tf.ones(2))
