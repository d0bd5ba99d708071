"""Shallow-width lower bounds against the theorems and against true widths, the conversion
table, and saving / loading networks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorly as tl

import tensorexpr as te
from tensorexpr.experiments.theorem1 import witness_network
from tensorexpr.experiments.theorem5_2 import witness_grid, witness_rnn


@pytest.mark.parametrize(("d", "m", "r"), [(2, 3, 2), (4, 3, 2), (4, 2, 3), (6, 3, 3), (6, 2, 1)])
def test_bound_is_exact_on_theorem1_witness(d, m, r):
    found = te.shallow_width_lower_bound(witness_network(d, m, r))
    assert found.bound == min(m, r) ** (d // 2)
    assert found.xi == "product" and found.term_rank == 1
    assert found.row_modes == tuple(range(0, d, 2))
    assert found.gap == float("inf") or found.gap > 1e8


@pytest.mark.parametrize(("M", "d"), [(2, 4), (3, 4), (3, 2), (2, 6)])
def test_theorem5_2_witness_rank_and_bound(M, d):
    found = te.shallow_width_lower_bound(witness_grid(M, d), xi="relu_max")
    assert found.rank == M ** (d // 2)
    assert found.term_rank == M * d // 2
    assert found.bound == math.ceil(M ** (d // 2) / (M * d / 2))
    # the same bound from the generalized RNN that realises the witness
    net_bound = te.shallow_width_lower_bound(witness_rnn(M, d), templates=np.eye(M))
    assert (net_bound.rank, net_bound.bound) == (found.rank, found.bound)


@pytest.mark.parametrize("kind", ["cp", "tt", "ht"])
def test_product_bound_below_cp_rank_found(kind):
    """The certificate never exceeds the CP rank ALS finds (an upper bound on the true one)."""
    net = {"cp": te.CPNetwork, "tt": te.TTNetwork, "ht": te.HTNetwork}[kind].random(
        4, te.LinearFeatures.identity(2), rank=2, random_state=1
    )
    W = np.asarray(net.coefficient_tensor())
    found = te.shallow_width_lower_bound(net, partitions=("odd", [0, 1], [0, 3]))
    cp = te.cp_rank(W, tol=1e-7, random_state=0)
    assert cp.reached
    assert found.bound <= cp.rank
    assert found.bound == max(found.ranks.values())


@pytest.mark.parametrize("xi", ["product", "relu_max", "relu_sum", "max"])
@pytest.mark.parametrize("seed", range(4))
def test_bound_never_exceeds_true_shallow_width(xi, seed):
    """A generalized shallow network of width R has a bound <= R, on any templates."""
    rng = np.random.default_rng(seed)
    R = int(rng.integers(1, 4))
    d = int(rng.choice([2, 4]))
    M = int(rng.integers(2, 5))
    net = te.CPNetwork.random(
        d, te.ReLUFeatures(2, 3, random_state=seed), rank=R, xi=xi, random_state=seed
    )
    templates = rng.standard_normal((M, 2))
    found = te.shallow_width_lower_bound(net, templates=templates, partitions=("odd", [0]))
    assert 1 <= found.bound <= R


def test_relu_max_bound_counts_term_rank_per_partition():
    G = witness_grid(3, 4)
    found = te.shallow_width_lower_bound(G, xi="relu_max", partitions=("odd", [0], [0, 1]))
    # partition {0}: rank 3, term rank min(3, 9) = 3 -> bound 1; odd/even: ceil(9 / 6) = 2
    assert found.ranks[(0,)] == 3 and found.ranks[(0, 2)] == 9
    assert found.bound == 2 and found.row_modes == (0, 2)
    assert int(found) == 2


def test_tol_is_reported_and_used():
    G = witness_grid(2, 4) + 1e-9 * np.random.default_rng(0).standard_normal((2,) * 4)
    loose = te.shallow_width_lower_bound(G, atol=1e-6)
    tight = te.shallow_width_lower_bound(G, atol=0.0)
    assert loose.atol == 1e-6 and loose.rank == 4
    assert tight.rank == 4  # J - I is full rank, the noise changes nothing
    assert loose.gap > 1e6


def test_bound_errors_name_the_argument():
    soft = te.TTNetwork.random(4, te.TrigFeatures(), rank=2, xi="softplus", random_state=0)
    with pytest.raises(ValueError, match="no shallow-width lower bound is known for xi='softplus'"):
        te.shallow_width_lower_bound(soft, templates=np.linspace(0, 1, 3))
    relu = te.TTNetwork.random(4, te.TrigFeatures(), rank=2, xi="relu_max", random_state=0)
    with pytest.raises(ValueError, match="templates are required"):
        te.shallow_width_lower_bound(relu)
    with pytest.raises(ValueError, match="xi='product' differs"):
        te.shallow_width_lower_bound(relu, templates=[0.0, 1.0], xi="product")
    with pytest.raises(ValueError, match="templates are only used with a network"):
        te.shallow_width_lower_bound(np.ones((2, 2)), templates=[0.0, 1.0])
    with pytest.raises(TypeError, match="partitions"):
        te.shallow_width_lower_bound(np.ones((2, 2)), partitions="odd")
    with pytest.raises(ValueError, match="xi must be one of"):
        te.shallow_width_lower_bound(np.ones((2, 2)), xi="tanh")
    with pytest.raises(ValueError, match="order >= 2"):
        te.shallow_width_lower_bound(np.ones(3))
    multi = te.CPNetwork.random(2, te.TrigFeatures(), rank=2, n_outputs=2, random_state=0)
    with pytest.raises(ValueError, match="single output"):
        te.shallow_width_lower_bound(multi)


def test_width_conversion_table():
    table = te.width_conversion_bounds(3, 4)
    assert set(table) == {"tt", "ht", "cp"} and all(
        set(row) == {"tt", "ht", "cp"} for row in table.values()
    )
    assert table["ht"]["tt"].value == 9 and table["ht"]["tt"].exact
    assert table["tt"]["ht"].value == 3 and table["tt"]["ht"].exact  # r^(log2(4)/2) = r
    assert table["cp"]["tt"].value == 9 and not table["cp"]["tt"].exact
    assert table["cp"]["ht"].value == 9 and not table["cp"]["ht"].exact
    assert all(table[k][k].value == 3 and table[k][k].exact for k in table)
    deep = te.width_conversion_bounds(2, 8)["tt"]["ht"]
    assert (deep.value, deep.upper, deep.exact) == (3, 4, False)  # ceil(2^1.5), 2^(3-1)
    with pytest.raises(ValueError, match="r must be"):
        te.width_conversion_bounds(0, 4)
    with pytest.raises(TypeError, match="d must be"):
        te.width_conversion_bounds(2, 4.0)
    with pytest.raises(ValueError, match="d must be"):
        te.width_conversion_bounds(2, 1)


def test_conversion_table_is_consistent_with_measured_tt_and_cp_widths():
    """TT -> CP: a generic TT of rank r over m >= r has odd/even rank >= r^(d/2)."""
    r, d = 2, 4
    net = te.TTNetwork.random(d, te.LinearFeatures.identity(3), rank=r, random_state=0)
    cell = te.width_conversion_bounds(r, d)["cp"]["tt"]
    assert te.shallow_width_lower_bound(net).bound >= cell.value


@pytest.mark.parametrize("kind", ["cp", "tt", "tt-matrices", "ht"])
@pytest.mark.parametrize(
    "fmap",
    [
        te.TrigFeatures(1),
        te.ReLUFeatures(1, 3, random_state=0),
        te.PolynomialFeatures(1, degree=2),
        te.LinearFeatures(1, 2, append_constant=True, random_state=0),
    ],
    ids=["trig", "relu", "poly", "linear"],
)
def test_save_load_round_trip(tmp_path, kind, fmap):
    if kind == "cp":
        net = te.CPNetwork.random(4, fmap, rank=2, xi="relu_sum", random_state=0)
    elif kind == "tt":
        net = te.TTNetwork.random(4, fmap, rank=[2, 3, 2], random_state=0)
    elif kind == "tt-matrices":
        net = te.TTNetwork.random(4, fmap, rank=2, xi="relu_max", hidden_size=3, random_state=0)
    else:
        net = te.HTNetwork.random(
            4, fmap, rank=2, xi="max", tree=te.DimensionTree(((0, 2), (3, 1))), random_state=0
        )
    path = te.save_network(net, tmp_path / "net.npz")
    back = te.load_network(path)
    assert type(back) is type(net) and back.xi.name == net.xi.name
    assert back.feature_map == net.feature_map and back.ranks == net.ranks
    X = np.random.default_rng(0).standard_normal((5, 4, 1))
    np.testing.assert_array_equal(np.asarray(back(X)), np.asarray(net(X)))


def test_load_errors(tmp_path):
    with pytest.raises(ValueError, match="path must be an existing"):
        te.load_network(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.ones(2))
    with pytest.raises(ValueError, match="not a network file"):
        te.load_network(bad)
    with pytest.raises(TypeError, match="network must be"):
        te.save_network(np.ones(2), tmp_path / "x")


def test_tt_and_ht_tensors_are_analysed_as_their_dense_tensor():
    # one resolution of the input: a TT / HT tensor is its dense tensor, size-checked first
    T = np.random.default_rng(0).random((3, 3, 3, 3))
    for factorized in (te.tt_svd(T, rank=2), te.ht_svd(T, rank=2)):
        dense = tl.to_numpy(factorized.to_tensor())
        brute = np.linalg.matrix_rank(dense.transpose(0, 2, 1, 3).reshape(9, 9))
        assert te.matricization_rank(factorized).rank == brute
        assert te.shallow_width_lower_bound(factorized).bound == brute
        cert = te.certify_matricization_rank(factorized, max_size=9)
        assert cert.rank == brute
        with pytest.raises(ValueError, match="dense tensor of the"):
            te.matricization_rank(factorized, memory_limit=64)
        with pytest.raises(ValueError, match="templates are only used with a network"):
            te.matricization_rank(factorized, templates=np.eye(3))


def test_a_score_function_is_refused_where_only_networks_and_tensors_are_analysed():
    with pytest.raises(TypeError, match="source must be a network or a tensor"):
        te.shallow_width_lower_bound(lambda X: X[:, 0, 0])


def test_each_analysis_function_names_the_inputs_it_accepts():
    net = te.TTNetwork.random(4, te.LinearFeatures.identity(2), rank=2, random_state=0)
    cert = te.certify_matricization_rank(net)
    with pytest.raises(TypeError, match="source must be a network or a score function"):
        te.verify_width_certificate(np.ones((2, 2, 2, 2)), None, cert)
    two = te.TTNetwork.random(4, te.LinearFeatures.identity(2), rank=2, n_outputs=2)
    for analyse in (te.matricization_rank, te.shallow_width_lower_bound):
        with pytest.raises(ValueError, match="must have a single output"):
            analyse(two)
