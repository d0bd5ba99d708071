"""fit_generalized: fits reproduce their target through tensorexpr's own grid tensors, on
every kind and operator, also after the TensorFlow backend switched TF to NumPy behaviour."""

from __future__ import annotations

import numpy as np
import pytest
import tensorly as tl

import tensorexpr as te


def _grid(net, M):
    return np.asarray(net.grid_tensor(np.eye(M)))


def test_product_cp_recovers_a_rank_2_tensor():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 3))
    target = np.einsum("i,j,k->ijk", a[0], a[1], a[2]) + np.einsum("i,j,k->ijk", *b)
    fit = te.fit_generalized(
        target, "cp", rank=2, xi="product", tol=1e-8, max_iter=4000, random_state=0
    )
    assert fit.converged and fit.relative_error <= 1e-8
    assert isinstance(fit.network, te.CPNetwork) and fit.network.rank == 2
    np.testing.assert_allclose(_grid(fit.network, 3), target, atol=1e-6)


@pytest.mark.parametrize("kind", ["cp", "tt", "ht"])
@pytest.mark.parametrize("xi", ["relu_max", "relu_sum", "product", "softplus", "max"])
def test_fitted_network_reproduces_the_reported_error(kind, xi):
    target = np.random.default_rng(1).standard_normal((2, 2, 2, 2))
    fit = te.fit_generalized(target, kind, rank=2, xi=xi, tol=0.0, max_iter=100, random_state=0)
    net = fit.network
    assert net.kind == kind and net.xi.name == xi
    assert isinstance(net.feature_map, te.LinearFeatures) and net.n_features == 2
    err = np.linalg.norm(_grid(net, 2) - target) / np.linalg.norm(target)
    assert fit.relative_error == pytest.approx(err, rel=1e-10)
    assert len(fit.history) == fit.n_iter == 100 and not fit.converged
    # the history is the error of the training loop: it starts above where it ends
    assert fit.history[-1] < fit.history[0]


@pytest.mark.parametrize("kind", ["tt", "ht"])
def test_relu_max_deep_networks_fit_a_realisable_target(kind):
    cls = {"tt": te.TTNetwork, "ht": te.HTNetwork}[kind]
    opts = {"hidden_size": 3} if kind == "tt" else {}
    teacher = cls.random(
        4, te.LinearFeatures.identity(3), rank=2, xi="relu_max", random_state=3, **opts
    )
    target = _grid(teacher, 3)
    fit = te.fit_generalized(
        target, kind, rank=3, xi="relu_max", tol=1e-3, max_iter=3000, n_restarts=2, random_state=0
    )
    assert fit.relative_error < 2e-2


def test_relu_max_universality_at_width_M_to_the_d_plus_1():
    target = np.random.default_rng(2).standard_normal((2, 2, 2))
    fit = te.fit_generalized(
        target, "cp", rank=9, xi="relu_max", tol=1e-6, max_iter=3000, random_state=0
    )
    assert fit.relative_error < 1e-4


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_random_start_gets_the_least_squares_output_layer(seed):
    # [[1, 2], [2, 3]] = relu(a_i + b_j) with a = (0, 1), b = (1, 2): with a random output
    # weight of the wrong sign Adam drove the ReLU dead (seed 0 stopped at 0.866)
    target = np.array([[1.0, 2.0], [2.0, 3.0]])
    fit = te.fit_generalized(target, "cp", rank=1, xi="relu_sum", max_iter=2000, random_state=seed)
    assert fit.relative_error <= 1e-6
    np.testing.assert_allclose(_grid(fit.network, 2), target, atol=1e-5)


def test_least_squares_output_layer_is_the_best_for_its_hidden_layers():
    from tensorexpr.engine import _fit_generalized as fg

    rng = np.random.default_rng(5)
    target = rng.standard_normal((3, 3, 3))
    spec = fg._spec_of(target, "cp", 3, "relu_max", None, None)
    shapes = te.networks.layout_of("cp").shapes(spec)
    trainer = fg.GridTrainer(spec, shapes, target.size)
    values = fg._initial_values(spec, shapes, rng, te.get_operator("relu_max"))
    trainer.reset(values, target.ravel(), 0.01, 0.0)
    fg._least_squares_output(trainer, spec, values)
    fitted = trainer.values()
    # brute force: the grid is linear in the output weights, so any other weights are worse
    net = fg._fitted_network(spec, fitted, 1.0)
    best = np.linalg.norm(_grid(net, 3) - target)
    for _ in range(5):
        moved = dict(
            fitted,
            weights=fitted["weights"] + 1e-3 * rng.standard_normal(fitted["weights"].shape),
        )
        other = np.linalg.norm(_grid(fg._fitted_network(spec, moved, 1.0), 3) - target)
        assert other >= best - 1e-12
    assert all(np.array_equal(fitted[k], values[k]) for k in values if k != "weights")


def test_restarts_keep_the_best_and_stop_when_converged():
    target = np.random.default_rng(3).standard_normal((3, 3, 3))
    fit = te.fit_generalized(
        target, "cp", rank=1, xi="product", tol=1e-12, max_iter=60, n_restarts=3, random_state=0
    )
    assert fit.n_restarts == 3 and len(fit.restart_errors) == 3
    assert fit.relative_error == min(fit.restart_errors)
    easy = te.fit_generalized(
        np.ones((2, 2)),
        "cp",
        rank=1,
        xi="product",
        tol=1e-6,
        max_iter=2000,
        n_restarts=3,
        random_state=0,
    )
    assert easy.converged and easy.n_restarts == 1


def test_reproducible_with_random_state():
    target = np.random.default_rng(4).standard_normal((2, 2, 2))
    a = te.fit_generalized(
        target, "tt", rank=2, xi="relu_max", tol=0.0, max_iter=100, random_state=7
    )
    b = te.fit_generalized(
        target, "tt", rank=2, xi="relu_max", tol=0.0, max_iter=100, random_state=7
    )
    np.testing.assert_allclose(a.history, b.history, rtol=1e-10)


def test_works_under_every_backend(backend):
    # training is TensorFlow's own, whatever tensorly's backend (tensorflow switches TF to
    # numpy behaviour process-wide)
    target = np.add.outer(np.arange(3.0), np.arange(3.0)) + 1.0
    fit = te.fit_generalized(
        target, "cp", rank=1, xi="relu_sum", tol=1e-8, max_iter=3000, random_state=0
    )
    assert tl.get_backend() == backend
    assert fit.relative_error < 1e-6


def test_bad_input_names_the_argument():
    T = np.ones((2, 2, 2))
    with pytest.raises(ValueError, match="kind must be one of"):
        te.fit_generalized(T, "tucker", rank=1)
    with pytest.raises(ValueError, match="rank must be"):
        te.fit_generalized(T, rank=0)
    with pytest.raises(TypeError, match="rank must be"):
        te.fit_generalized(T, rank=1.5)
    with pytest.raises(ValueError, match="xi must be one of"):
        te.fit_generalized(T, xi="tanh")
    with pytest.raises(ValueError, match="same size M"):
        te.fit_generalized(np.ones((2, 3)))
    with pytest.raises(ValueError, match="order d >= 2"):
        te.fit_generalized(np.ones(3))
    with pytest.raises(ValueError, match="identically zero"):
        te.fit_generalized(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="tol must be"):
        te.fit_generalized(T, tol=-1.0)
    with pytest.raises(ValueError, match="learning_rate must be"):
        te.fit_generalized(T, learning_rate=0)
    with pytest.raises(ValueError, match="tree is only used"):
        te.fit_generalized(T, "cp", tree=te.DimensionTree.balanced(3))
    with pytest.raises(ValueError, match="hidden_size is only used"):
        te.fit_generalized(T, "cp", hidden_size=3)
    with pytest.raises(ValueError, match="tree must be a DimensionTree over d=3"):
        te.fit_generalized(T, "ht", tree=te.DimensionTree.balanced(4))
    with pytest.raises(ValueError, match="finite"):
        te.fit_generalized(np.full((2, 2), np.nan))


def _jittered_teacher(noise, seed=0):
    fmap = te.LinearFeatures.identity(3)
    teacher = te.TTNetwork.random(4, fmap, 2, xi="relu_max", hidden_size=3, random_state=seed)
    rng = np.random.default_rng(seed)
    start = te.TTNetwork(
        [c * (1 + noise * rng.standard_normal(c.shape)) for c in teacher.cores],
        fmap,
        xi="relu_max",
        matrices=[c * (1 + noise * rng.standard_normal(c.shape)) for c in teacher.matrices],
    )
    return _grid(teacher, 3), start


@pytest.mark.parametrize("kind", ["cp", "tt"])
def test_init_from_a_construction_is_returned_exact(kind):
    target = np.random.default_rng(3).standard_normal((3, 3, 3))
    net = te.construct_generalized(target, kind, xi="relu_max")
    opts = {"rank": net.rank} if kind == "cp" else {"rank": 3, "hidden_size": 4}
    fit = te.fit_generalized(target, kind, xi="relu_max", init=net, tol=1e-12, **opts)
    assert fit.converged and fit.n_iter == 0 and fit.relative_error <= 1e-12
    np.testing.assert_allclose(_grid(fit.network, 3), target, atol=1e-12)


def test_polish_converges_inside_the_basin_where_adam_crawls():
    target, start = _jittered_teacher(1e-2)
    opts = {"rank": 2, "xi": "relu_max", "tol": 1e-10, "max_iter": 200, "learning_rate": 1e-3}
    adam = te.fit_generalized(target, "tt", init=start, **opts)
    polished = te.fit_generalized(target, "tt", init=start, polish=50, **opts)
    assert adam.relative_error > 1e-6
    assert polished.relative_error <= 1e-10 < adam.relative_error
    err = np.linalg.norm(_grid(polished.network, 3) - target) / np.linalg.norm(target)
    assert err == pytest.approx(polished.relative_error, rel=1e-6, abs=1e-14)


@pytest.mark.parametrize("structure", [None, ((0, 1), (2, 3)), (((0, 1), 2), 3)])
def test_ht_init_from_a_network_on_its_tree(structure):
    # init= for HT checks the tree against the fit's (an AttributeError before)
    fmap = te.LinearFeatures.identity(3)
    tree = te.DimensionTree.balanced(4) if structure is None else te.DimensionTree(structure)
    teacher = te.HTNetwork.random(4, fmap, 2, xi="relu_max", tree=tree, random_state=1)
    target = _grid(teacher, 3)
    fit = te.fit_generalized(
        target, "ht", rank=2, xi="relu_max", tree=tree, init=teacher, tol=1e-12
    )
    assert fit.n_iter == 0 and fit.relative_error <= 1e-12
    other = te.DimensionTree((0, (1, (2, 3))))
    with pytest.raises(ValueError, match="init must use the fit's tree"):
        te.fit_generalized(target, "ht", rank=2, xi="relu_max", tree=other, init=teacher)


def test_init_and_polish_are_checked():
    target, start = _jittered_teacher(0.0)
    with pytest.raises(TypeError, match="init must be a TTNetwork"):
        te.fit_generalized(target, "tt", rank=2, init=np.zeros(3))
    with pytest.raises(ValueError, match="parameter shapes"):
        te.fit_generalized(target, "tt", rank=3, init=start)
    with pytest.raises(ValueError, match="xi='product'"):
        te.fit_generalized(target, "tt", rank=2, xi="product", init=start)
    with pytest.raises(ValueError, match="polish must be an int >= 0"):
        te.fit_generalized(target, "tt", rank=2, polish=-1)
