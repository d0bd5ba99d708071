"""Each network kind's layout (tensorexpr.networks): the one owner of its parameter names,
shapes and stacking, checked against the network itself (round trips, parameter counts, the
initial values' shapes) and against files written before the layouts existed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tensorexpr as te
from tensorexpr import engine
from tensorexpr.networks import KINDS, LAYOUTS, layout_of

DATA = Path(__file__).parent / "data"


def _network(kind, hidden_size=None):
    fmap = te.TrigFeatures(2)
    if kind == "cp":
        return te.CPNetwork.random(4, fmap, rank=3, xi="relu_max", n_outputs=2, random_state=0)
    if kind == "tt":
        return te.TTNetwork.random(
            4, fmap, rank=3, xi="relu_sum", hidden_size=hidden_size, random_state=0
        )
    tree = te.DimensionTree(((0, (1, 2)), 3))
    return te.HTNetwork.random(4, fmap, rank=2, tree=tree, n_outputs=2, random_state=0)


def _spec_of(net, hidden_size=None):
    rank = max(net.ranks[1:-1]) if net.kind == "tt" else net.ranks[0]
    tree = net.tree.structure if net.kind == "ht" else None
    return engine.NetworkSpec(
        net.kind, net.xi.name, net.d, net.n_features, rank, net.n_outputs, tree, hidden_size
    )


def test_the_table_names_every_kind_once():
    assert KINDS == ("cp", "tt", "ht") == tuple(LAYOUTS)
    for kind, layout in LAYOUTS.items():
        assert layout.kind == kind == layout.network.kind
    assert engine.KINDS is KINDS
    with pytest.raises(ValueError, match=r"kind must be one of \['cp', 'tt', 'ht'\], got 'mps'"):
        layout_of("mps")
    with pytest.raises(TypeError, match="kind must be one of"):
        layout_of(3)


@pytest.mark.parametrize("kind, hidden_size", [("cp", None), ("tt", None), ("tt", 3), ("ht", None)])
def test_engine_parameters_of_a_network_rebuild_it(kind, hidden_size):
    net = _network(kind, hidden_size)
    layout = layout_of(kind)
    params = layout.params_of(net)
    # the network's own parameters, stacked: the same numbers, the same count
    assert sum(v.size for v in params.values()) == net.n_params
    back = layout.to_network(_spec_of(net, hidden_size), params, net.feature_map, net.xi)
    X = np.random.default_rng(1).standard_normal((6, 4, 2))
    np.testing.assert_allclose(back(X), net(X), rtol=1e-12)
    assert type(back) is type(net) and back.ranks == net.ranks


def test_unequal_ranks_do_not_stack_and_say_so():
    net = te.TTNetwork.random(4, te.TrigFeatures(2), rank=[2, 3, 2], random_state=0)
    with pytest.raises(ValueError, match=r"equal inner ranks, got ranks=\(1, 2, 3, 2, 1\)"):
        layout_of("tt").params_of(net)
    leaf = np.ones((2, 1))
    net = te.HTNetwork([leaf, np.ones((2, 2)), np.ones((1, 2, 1))], te.TrigFeatures(1))
    with pytest.raises(ValueError, match="one rank below the root"):
        layout_of("ht").params_of(net)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("d", [1, 2, 5])
def test_shapes_are_the_shapes_of_the_initial_values(kind, d):
    tree = te.DimensionTree.balanced(d).structure if kind == "ht" else None
    for spec in (
        engine.NetworkSpec(kind, "product", d, 3, 2, 2, tree),
        engine.NetworkSpec(kind, "product", d, 3, 2, 1, tree, 4 if kind == "tt" else None),
    ):
        layout = layout_of(kind)
        init = engine.init_params(spec, np.random.default_rng(0), constant_index=0)
        shapes = layout.shapes(spec)
        assert {k: v.shape for k, v in init.items()} == shapes
        assert list(init) == engine.param_names(spec) == layout.names(spec)
        assert layout.n_params(spec) == sum(v.size for v in init.values())
        assert layout.output_name(spec) in shapes
        net = engine.to_network(spec, init, te.PolynomialFeatures(1, degree=2))
        assert net.n_params == layout.n_params(spec)


@pytest.mark.parametrize("kind", KINDS)
def test_one_hot_folds_the_feature_matrix_into_the_inputs(kind):
    net = _network(kind)
    templates = np.random.default_rng(2).standard_normal((3, 2))
    F = np.asarray(te.grid.feature_matrix(net.feature_map, templates))
    folded = layout_of(kind).one_hot(net, F)
    # brute force: the grid tensor on one-hot templates is the grid tensor on the templates
    np.testing.assert_allclose(
        folded.grid_tensor(np.eye(3)), net.grid_tensor(templates), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("kind", KINDS)
def test_files_written_before_the_layouts_load_unchanged(kind, tmp_path):
    """The files in tests/data were written by save_network before networks/ was split."""
    expected = json.loads((DATA / "network_format2_scores.json").read_text())
    net = te.load_network(DATA / f"network_format2_{kind}.npz")
    assert net.kind == kind
    X = np.asarray(expected["X"])
    np.testing.assert_allclose(net(X), np.asarray(expected["scores"][kind]), rtol=1e-12)
    # and saving it again writes the same arrays and metadata
    with np.load(DATA / f"network_format2_{kind}.npz") as old:
        with np.load(te.save_network(net, tmp_path / "again")) as new:
            assert sorted(old.files) == sorted(new.files)
            assert json.loads(str(old["meta"])) == json.loads(str(new["meta"]))
            for name in old.files:
                np.testing.assert_array_equal(old[name], new[name])


def test_set_learning_rate_changes_the_step_only():
    spec = engine.NetworkSpec("cp", "product", 3, 3, 2)
    fmap = te.PolynomialFeatures(1, degree=2)
    trainer = engine.network_trainer(spec, fmap, "squared", False, "float64", False)
    params = engine.init_params(spec, np.random.default_rng(0), fmap.constant_index)
    trainer.load(params, None, 0.01)
    X = np.random.default_rng(1).standard_normal((8, 3, 1))
    y = np.ones(8)
    batches, weights = np.arange(8)[None], np.ones((1, 8))
    trainer.run_epoch(X, y, batches, weights, 0.0, 0.0, [0, 0])
    state = trainer.optimizer_state()
    trainer.set_learning_rate(0.5)
    assert float(trainer.optimizer.learning_rate.numpy()) == 0.5
    assert trainer.optimizer_state()[0] == state[0] == 1
    for kept, now in zip(state[1:], trainer.optimizer_state()[1:], strict=True):
        np.testing.assert_array_equal(kept, now)
