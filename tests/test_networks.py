"""Networks: evaluation against per-sample reference code, grid tensors against
evaluation on every template tuple, on every backend, in float64."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import tensorly as tl

import tensorexpr as te
from tests import _reference as ref

XIS = ["product", "relu_max", "relu_sum", "softplus", "max"]


def make(kind, xi, n_outputs=1, seed=0, d=4, m=3, n=2, hidden=None, tree=None):
    fmap = te.ReLUFeatures(n, m, random_state=seed)
    if kind == "cp":
        return te.CPNetwork.random(d, fmap, 3, xi=xi, n_outputs=n_outputs, random_state=seed)
    if kind == "tt":
        return te.TTNetwork.random(
            d, fmap, 2, xi=xi, n_outputs=n_outputs, hidden_size=hidden, random_state=seed
        )
    return te.HTNetwork.random(d, fmap, 2, xi=xi, n_outputs=n_outputs, tree=tree, random_state=seed)


NETS = [
    ("cp", {}),
    ("tt", {}),
    ("tt", {"hidden": 4}),
    ("ht", {}),
    ("ht", {"tree": te.DimensionTree(((0, 2), (3, 1)))}),
]
NET_IDS = ["cp", "tt", "tt-C_t", "ht", "ht-custom-tree"]


@pytest.mark.parametrize("xi", XIS)
@pytest.mark.parametrize(("kind", "opts"), NETS, ids=NET_IDS)
def test_call_matches_reference(kind, opts, xi):
    net = make(kind, xi, n_outputs=2, **opts)
    X = np.random.default_rng(1).standard_normal((5, net.d, net.n_inputs))
    out = np.asarray(net(X))
    expected = np.stack([ref.score(net, x) for x in X])
    assert out.shape == (5, 2)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("xi", XIS)
@pytest.mark.parametrize(("kind", "opts"), NETS, ids=NET_IDS)
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_grid_tensor_equals_evaluation_on_every_tuple(backend, kind, opts, xi, n_outputs):
    net = make(kind, xi, n_outputs=n_outputs, **opts)
    templates = np.random.default_rng(2).standard_normal((3, net.n_inputs))
    G = net.grid_tensor(templates)
    assert te._backend.is_float64(G)
    slow = te.grid_tensor(net, templates, d=net.d, batch_size=7)
    assert tl.shape(G) == (3,) * net.d + ((n_outputs,) if n_outputs > 1 else ())
    np.testing.assert_allclose(tl.to_numpy(G), tl.to_numpy(slow), rtol=1e-11, atol=1e-12)


def test_grid_tensor_by_python_loops_over_tuples():
    """The black-box grid itself against a loop over itertools.product."""
    net = make("tt", "relu_max")
    templates = np.random.default_rng(3).standard_normal((2, 2))
    G = np.asarray(net.grid_tensor(templates))
    for idx in itertools.product(range(2), repeat=net.d):
        assert G[idx] == pytest.approx(ref.score(net, templates[list(idx)])[0], abs=1e-12)


@pytest.mark.parametrize(("kind", "opts"), NETS, ids=NET_IDS)
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_product_dense_structured_and_mode_products_agree(backend, kind, opts, n_outputs):
    net = make(kind, "product", n_outputs=n_outputs, **opts)
    templates = np.random.default_rng(4).standard_normal((4, net.n_inputs))
    dense = tl.to_numpy(net.grid_tensor(templates))
    structured = net.grid_tensor(templates, structured=True)
    expected_type = {"cp": tl.cp_tensor.CPTensor, "tt": tl.tt_tensor.TTTensor, "ht": te.HTTensor}[
        kind
    ]
    assert isinstance(structured, expected_type)
    np.testing.assert_allclose(tl.to_numpy(structured.to_tensor()), dense, rtol=1e-11, atol=1e-12)
    W = ref.coefficient_tensor(net)
    np.testing.assert_allclose(tl.to_numpy(net.coefficient_tensor()), W, rtol=1e-12, atol=1e-13)
    F = np.asarray(tl.to_numpy(te.feature_matrix(net.feature_map, templates)))
    modes = list(range(net.d))
    Wx = tl.tenalg.multi_mode_dot(tl.tensor(W), [tl.tensor(F)] * net.d, modes=modes)
    np.testing.assert_allclose(dense, tl.to_numpy(Wx), rtol=1e-11, atol=1e-12)


def test_generalized_rnn_with_product_is_the_folded_tt():
    net = make("tt", "product", hidden=5)
    assert net.matrices is not None
    folded = net.folded()
    assert folded.matrices is None and folded.ranks == net.ranks
    X = np.random.default_rng(5).standard_normal((6, net.d, net.n_inputs))
    np.testing.assert_allclose(np.asarray(folded(X)), np.asarray(net(X)), rtol=1e-12)
    templates = np.random.default_rng(6).standard_normal((3, net.n_inputs))
    np.testing.assert_allclose(
        folded.grid_tensor(templates), net.grid_tensor(templates), rtol=1e-12, atol=1e-13
    )
    with pytest.raises(ValueError, match="xi='product'"):
        make("tt", "relu_max", hidden=5).folded()


def test_backends_agree():
    nets = [make(k, xi, **o) for (k, o) in NETS for xi in ("product", "relu_max", "softplus")]
    templates = np.random.default_rng(7).standard_normal((3, 2))
    X = np.random.default_rng(8).standard_normal((4, 4, 2))
    results = {}
    for name in te._backend.BACKENDS:
        try:
            te.set_backend(name)
        except ImportError:  # pragma: no cover - optional backend missing
            continue
        results[name] = [(tl.to_numpy(n.grid_tensor(templates)), tl.to_numpy(n(X))) for n in nets]
    tl.set_backend("numpy")
    base = results["numpy"]
    for name, res in results.items():
        for (g0, y0), (g, y) in zip(base, res, strict=True):
            np.testing.assert_allclose(g, g0, rtol=1e-11, atol=1e-12, err_msg=name)
            np.testing.assert_allclose(y, y0, rtol=1e-11, atol=1e-12, err_msg=name)


def test_float32_inputs_give_float32_scores(backend):
    net = make("tt", "relu_max")
    X = tl.tensor(np.random.default_rng(9).standard_normal((3, 4, 2)), dtype=tl.backend.float32)
    out = net(X)
    assert "float32" in str(tl.context(out)["dtype"])


def test_memory_limit_is_respected_and_checked():
    net = make("tt", "relu_max", d=4, m=3)
    templates = np.random.default_rng(10).standard_normal((5, 2))
    full = net.grid_tensor(templates)
    # a budget just above the result forces many small blocks; same numbers
    small = net.grid_tensor(templates, memory_limit=5**4 * 8 + 6000)
    np.testing.assert_allclose(small, full, rtol=1e-13)
    with pytest.raises(ValueError, match="memory_limit"):
        net.grid_tensor(templates, memory_limit=1000)
    with pytest.raises(ValueError, match="memory_limit"):
        make("tt", "product").grid_tensor(templates, memory_limit=1000)


def test_n_params_counts_every_parameter():
    fmap = te.TrigFeatures()
    assert te.CPNetwork.random(5, fmap, 3).n_params == 5 * 2 * 3 + 3
    assert te.TTNetwork.random(3, fmap, 4).n_params == 1 * 2 * 4 + 4 * 2 * 4 + 4 * 2 * 1
    ht = te.HTNetwork.random(4, fmap, 3)
    assert ht.n_params == 4 * 2 * 3 + 2 * 27 + 9
    assert te.TTNetwork.random(2, fmap, 2, hidden_size=3).n_params == 3 * 2 + 2 * 3 * 1 + 2 * 6


def test_random_is_reproducible():
    a = te.TTNetwork.random(4, te.TrigFeatures(), 3, random_state=11)
    b = te.TTNetwork.random(4, te.TrigFeatures(), 3, random_state=11)
    assert all(np.array_equal(x, y) for x, y in zip(a.cores, b.cores, strict=True))


def test_network_built_under_one_backend_runs_under_another(backend):
    tl.set_backend("numpy")
    net = make("ht", "relu_sum")
    X = np.random.default_rng(12).standard_normal((3, 4, 2))
    expected = np.asarray(net(X))
    te.set_backend(backend)
    np.testing.assert_allclose(tl.to_numpy(net(tl.tensor(X))), expected, rtol=1e-12)


# -- bad input -------------------------------------------------------------------------
def test_bad_inputs_name_the_argument():
    fmap = te.TrigFeatures()
    net = te.TTNetwork.random(3, fmap, 2)
    with pytest.raises(ValueError, match=r"X must have shape \(batch, d=3, n=1\)"):
        net(np.zeros((2, 4, 1)))
    with pytest.raises(ValueError, match="X must contain only finite"):
        net(np.full((2, 3, 1), np.nan))
    with pytest.raises(ValueError, match="templates must have shape"):
        net.grid_tensor(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="templates must contain only finite"):
        net.grid_tensor(np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match="rank must be a positive int"):
        te.TTNetwork.random(3, fmap, 0)
    with pytest.raises(ValueError, match="rank must be a positive int or a list"):
        te.TTNetwork.random(3, fmap, [2, 2, 2])
    with pytest.raises(ValueError, match="xi must be one of"):
        te.CPNetwork.random(3, fmap, 2, xi="tanh")
    with pytest.raises(TypeError, match="feature_map must be"):
        te.CPNetwork.random(3, lambda x: x, 2)
    with pytest.raises(ValueError, match=r"factors\[1\] must have shape"):
        te.CPNetwork([np.ones((2, 3)), np.ones((2, 4))], fmap)
    with pytest.raises(ValueError, match=r"cores\[1\] has left rank"):
        te.TTNetwork([np.ones((1, 2, 2)), np.ones((3, 2, 1))], fmap)
    with pytest.raises(ValueError, match=r"cores\[0\] must have shape \(1, L, r_1\)"):
        te.TTNetwork([np.ones((2, 2, 2)), np.ones((2, 2, 1))], fmap)
    with pytest.raises(ValueError, match="factors must hold one array per tree node"):
        te.HTNetwork([np.ones((2, 1))] * 3, fmap, tree=te.DimensionTree.balanced(4))
    with pytest.raises(ValueError, match="tree must be a DimensionTree over d=4"):
        te.HTNetwork.random(4, fmap, 2, tree=te.DimensionTree.balanced(3))
    with pytest.raises(ValueError, match="structured=True needs xi='product'"):
        te.TTNetwork.random(3, fmap, 2, xi="relu_max").grid_tensor([0.0, 1.0], structured=True)
    with pytest.raises(ValueError, match="coefficient_tensor exists for xi='product' only"):
        te.TTNetwork.random(3, fmap, 2, xi="max").coefficient_tensor()
    with pytest.raises(TypeError, match="random_state must be"):
        te.TTNetwork.random(3, fmap, 2, random_state="seed")
