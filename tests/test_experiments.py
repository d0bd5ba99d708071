"""Every reproduction's --quick run through the CLI (files written), and the conclusions its
data must support."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tensorexpr.cli import main
from tensorexpr.experiments import fig3, get_experiment, list_experiments

NEW = ["table2", "universality", "theorem5_2", "theorem5_3", "fig3"]


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    results = {}
    for name in NEW:
        assert main(["reproduce", name, "--quick", "--out", str(out)]) == 0
        for ext in ("csv", "json", "png"):
            path = out / f"{name}.{ext}"
            assert path.is_file() and path.stat().st_size > 0, path
        results[name] = json.loads((out / f"{name}.json").read_text())
    return results


def test_registered():
    names = set(list_experiments())
    assert set(NEW) <= names
    for name in NEW:
        exp = get_experiment(name)
        assert exp.name == name and exp.description


def test_table2(quick_runs):
    summary, rows = quick_runs["table2"]["summary"], quick_runs["table2"]["rows"]
    for check in ("tt_within_upper", "ht_within_upper", "cp_consistent", "conversion_agrees"):
        assert summary[f"{check}_everywhere"], check
    assert {row["given"] for row in rows} == {"tt", "ht", "cp"}
    # TT given TT and HT given HT are the network's own width
    for row in rows:
        if row["given"] in ("tt", "ht"):
            assert row[f"{row['given']}_width"] == min(row["r"], row["cap"])


def test_universality_separates_max_from_average_pooling(quick_runs):
    rows = [row for row in quick_runs["universality"]["rows"] if row["method"] == "gradient"]
    widest = max(row["width"] for row in rows)
    final = {
        (row["target"], row["xi"]): row["relative_error"] for row in rows if row["width"] == widest
    }
    targets = {t for t, _ in final}
    for t in targets:
        assert final[(t, "relu_sum")] >= 100 * final[(t, "relu_max")]
        assert final[(t, "relu_max")] < 1e-3 and final[(t, "product")] < 1e-3
    # relu_sum sits on the additive floor, whatever the width
    for row in rows:
        if row["xi"] == "relu_sum":
            assert row["relative_error"] >= row["additive_floor"] * (1 - 1e-6)


def test_universality_constructions_are_exact_and_relu_sum_meets_its_floor(quick_runs):
    summary = quick_runs["universality"]["summary"]
    rows = [row for row in quick_runs["universality"]["rows"] if row["method"] == "construction"]
    assert {(row["xi"], row["kind"]) for row in rows} == {
        (xi, kind) for xi in ("relu_max", "product", "relu_sum") for kind in ("cp", "tt", "ht")
    }
    for row in rows:
        if row["xi"] == "relu_sum":
            assert row["relative_error"] == pytest.approx(row["floor"], rel=1e-9)
            assert row["floor"] > 0.1
        else:
            assert row["relative_error"] <= 1e-12
        if row["xi"] == "relu_max" and row["kind"] == "cp":
            assert row["width"] == row["M"] ** (row["d"] - 1) + 1
    assert summary["relu_sum_construction_meets_floor"]
    assert summary["max_constructed_error_relu_max"] <= 1e-12


def test_theorem5_2(quick_runs):
    summary = quick_runs["theorem5_2"]["summary"]
    assert summary["rank_exact_everywhere"]
    assert summary["rnn_realises_witness"]
    assert summary["bound_matches_everywhere"]
    for row in quick_runs["theorem5_2"]["rows"]:
        assert row["rank"] == row["M"] ** (row["d"] // 2)
        assert row["rnn_max_rank"] <= row["M"]


def test_theorem5_3(quick_runs):
    summary, rows = quick_runs["theorem5_3"]["summary"], quick_runs["theorem5_3"]["rows"]
    assert summary["base_grid_is_constant"]
    assert summary["perturbed_stay_rank1"]
    assert summary["max_fit_rank1_error_perturbed"] < 1e-8
    assert summary["min_fit_rank1_error_random"] > 1e-2
    base = [row for row in rows if row["eps"] == 0.0]
    assert base and all(
        row["grid_mean"] == 2.0 * (row["M"] * row["R"]) ** (row["d"] - 1) for row in base
    )


def test_fig3_quick_runs_every_distribution(quick_runs):
    summary, rows = quick_runs["fig3"]["summary"], quick_runs["fig3"]["rows"]
    variants = {(row["distribution"], row["input_matrices"]) for row in rows}
    assert variants == {(dist, c) for dist in fig3.DISTRIBUTIONS for c in (True, False)}
    assert len(summary["variants"]) == 8
    for name, verdict in summary["variants"].items():
        frac = list(verdict["fraction_bound_1"].values())
        falls = all(a >= b for a, b in zip(frac, frac[1:], strict=False)) and frac[0] > frac[-1]
        assert verdict["reproduces_paper"] == (all(f > 0 for f in frac) and falls), name
    # signed Gaussian cores: rank-1 equivalents get rarer with R; non-negative ones do not
    gauss = summary["variants"]["gaussian, with C_t"]["fraction_bound_1"]
    assert gauss["1"] > gauss["8"]
    half = summary["variants"]["halfnormal, with C_t"]["fraction_bound_1"]
    assert half["8"] >= half["1"]


def test_fig3_distributions_differ_in_sign():
    rng = np.random.default_rng(0)
    for name, nonneg in (("uniform01", True), ("halfnormal", True), ("uniform11", False)):
        net = fig3.random_relu_rnn(4, 3, 2, name, True, rng)
        values = np.concatenate([c.ravel() for c in net.cores + net.matrices])
        assert bool(np.all(values >= 0)) == nonneg
    assert fig3.random_relu_rnn(4, 3, 2, "gaussian", False, rng).matrices is None
    with pytest.raises(ValueError, match="distribution must be one of"):
        fig3.random_relu_rnn(4, 3, 2, "cauchy")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fig3_trend_over_seeds(seed):
    result = fig3.run(
        quick=True, seed=seed, n_samples=100, distributions=("gaussian",), input_matrices=(True,)
    )
    frac = [
        result.summary["variants"]["gaussian, with C_t"]["fraction_bound_1"][str(R)]
        for R in (1, 2, 4, 8)
    ]
    assert all(a >= b for a, b in zip(frac, frac[1:], strict=False))
    assert frac[0] > frac[-1]
    assert all(row["bound"] >= 1 for row in result.rows)


def test_witness_rnn_bad_d():
    from tensorexpr.experiments.theorem5_2 import witness_grid, witness_rnn

    with pytest.raises(ValueError, match="d must be even"):
        witness_rnn(3, 3)
    with pytest.raises(ValueError, match="d must be even"):
        witness_grid(3, 5)


def test_additive_floor_is_zero_on_additive_tensors():
    from tensorexpr.experiments.universality import additive_floor

    g = [np.arange(3.0), np.array([1.0, -2.0, 0.5]), np.ones(3)]
    T = g[0][:, None, None] + g[1][None, :, None] + g[2][None, None, :]
    assert additive_floor(T) < 1e-14
