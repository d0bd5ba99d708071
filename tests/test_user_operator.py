"""A user's operator, registered in one call, works unchanged everywhere: L2 pooling
xi(x, y) = sqrt(x^2 + y^2) (unit 0, positively homogeneous) in CP / TT / HT grid tensors,
fit_generalized, and TTNetworkClassifier (fit, predict, network_ export)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning

import tensorexpr as te

NAME = "l2_pooling"


def l2_pooling(x, y):
    # plain arithmetic: the same function serves numpy, torch, jax and TensorFlow tensors
    return (x * x + y * y) ** 0.5


@pytest.fixture(scope="module", autouse=True)
def registered():
    return te.register_operator(
        NAME, l2_pooling, unit=0.0, positively_homogeneous=True, replace=True
    )


def _network(kind, d=3, random_state=0):
    fmap = te.LinearFeatures(1, 2, random_state=random_state)
    cls = {"cp": te.CPNetwork, "tt": te.TTNetwork, "ht": te.HTNetwork}[kind]
    return cls.random(d, fmap, rank=2, xi=NAME, random_state=random_state)


def test_registered_once_listed_everywhere(registered):
    assert NAME in te.operator_names()
    assert te.get_operator(NAME) is registered
    assert registered.unit == 0.0 and registered.positively_homogeneous
    # the command line offers it too
    from tensorexpr.cli import build_parser

    args = build_parser().parse_args(["analyze", "--kind", "cp", "--xi", NAME])
    assert args.xi == NAME


@pytest.mark.parametrize("kind", ["cp", "tt", "ht"])
def test_grid_tensor_equals_the_network_on_every_template_tuple(kind, backend):
    net = _network(kind, d=4)
    templates = np.linspace(-1.0, 1.0, 3)
    fast = net.grid_tensor(templates)  # the grid recursion of the network
    slow = te.grid_tensor(net, templates, d=4)  # M^d evaluations of net(X)
    np.testing.assert_allclose(_numpy(fast), _numpy(slow), rtol=1e-10)


def _numpy(tensor):
    import tensorly as tl

    return tl.to_numpy(tensor)


def test_rank_one_cp_term_is_the_l2_norm():
    # xi-fold of sqrt(x^2 + y^2) over d positions = the Euclidean norm of the d values
    z = np.array([[3.0, 4.0, 12.0]])
    net = te.CPNetwork([np.array([[v]]) for v in z[0]], te.LinearFeatures.identity(1), xi=NAME)
    assert float(net(np.ones((1, 3, 1)))[0]) == pytest.approx(13.0)


@pytest.mark.parametrize("kind", ["cp", "tt", "ht"])
def test_fit_generalized_with_the_operator(kind):
    M, d = 3, 3
    source = {
        "cp": te.CPNetwork.random(d, te.LinearFeatures.identity(M), 2, xi=NAME, random_state=1),
        "tt": te.TTNetwork.random(d, te.LinearFeatures.identity(M), 2, xi=NAME, random_state=1),
        "ht": te.HTNetwork.random(d, te.LinearFeatures.identity(M), 2, xi=NAME, random_state=1),
    }[kind]
    target = np.asarray(source.grid_tensor(np.eye(M)))
    fit = te.fit_generalized(
        target, kind, rank=2, xi=NAME, tol=1e-4, max_iter=1500, n_restarts=2, random_state=0
    )
    assert fit.network.xi.name == NAME
    grid = np.asarray(fit.network.grid_tensor(np.eye(M)))
    err = np.linalg.norm(grid - target) / np.linalg.norm(target)
    assert err == pytest.approx(fit.relative_error, rel=1e-6)
    # the target is a network of this very form: the fit must get close to it
    assert fit.relative_error < 5e-2


def test_tt_classifier_with_the_operator():
    from estimators import TTNetworkClassifier

    X, y = make_moons(200, noise=0.1, random_state=0)
    X = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = TTNetworkClassifier(
            rank=4,
            n_features=8,
            feature_map="linear",
            xi=NAME,
            learning_rate=2e-2,
            max_iter=60,
            dropout=0.0,  # the settings this test was written for (before the new defaults)
            alpha=0.0,
            batch_size=64,
            learning_rate_schedule="constant",
            n_iter_no_change=10,
            random_state=0,
        ).fit(X, y)
    assert clf.predict(X).shape == (200,)
    assert clf.score(X, y) > 0.8  # better than chance (0.5) by a wide margin
    net = clf.network_
    assert isinstance(net, te.TTNetwork) and net.xi.name == NAME
    np.testing.assert_allclose(
        np.asarray(net(clf.standardize(X))), clf.decision_function(X), rtol=1e-6, atol=1e-9
    )
    # predict is the sign of the exported scores
    exported = np.asarray(net(clf.standardize(X)))
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(exported > 0).astype(int)])
