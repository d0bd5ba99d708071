"""The tensorexpr command: list, reproduce, analyze; errors exit with code 2."""

from __future__ import annotations

import numpy as np

import tensorexpr as te
from tensorexpr.cli import main


def test_list_names_every_experiment(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("theorem1", "table2", "universality", "theorem5_2", "theorem5_3", "fig3"):
        assert name in out


def test_reproduce_unknown_experiment(capsys):
    assert main(["reproduce", "nope", "--quick"]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err


def test_reproduce_theorem5_2_writes_files(tmp_path, capsys):
    assert main(["reproduce", "theorem5_2", "--quick", "--out", str(tmp_path)]) == 0
    assert {p.name for p in tmp_path.iterdir()} >= {
        "theorem5_2.csv",
        "theorem5_2.json",
        "theorem5_2.png",
    }
    assert "rnn_realises_witness: True" in capsys.readouterr().out


def test_analyze_random_product_network(capsys):
    assert main(["analyze", "--kind", "tt", "--d", "4", "--m", "3", "--rank", "3"]) == 0
    out = capsys.readouterr().out
    assert "needs width >= 9" in out  # min(m, r)^(d/2) for a generic TT
    assert "width conversions" in out and "r^(d/2)" in out


def test_analyze_relu_network_and_partitions(capsys):
    assert (
        main(
            [
                "analyze",
                "--kind",
                "tt",
                "--d",
                "4",
                "--m",
                "3",
                "--rank",
                "3",
                "--xi",
                "relu_max",
                "--partition",
                "odd",
                "--partition",
                "0",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "one-hot templates" in out and "ranks per partition" in out


def test_analyze_loaded_network_matches_library(tmp_path, capsys):
    net = te.CPNetwork.random(
        4, te.ReLUFeatures(2, 3, random_state=0), rank=2, xi="relu_max", random_state=0
    )
    path = te.save_network(net, tmp_path / "net.npz")
    assert main(["analyze", "--load", str(path), "--templates", "4", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    templates = np.random.default_rng([1, 1]).standard_normal((4, 2))
    bound = te.shallow_width_lower_bound(net, templates=templates).bound
    assert f"needs width >= {bound}" in out


def test_analyze_save(tmp_path, capsys):
    target = tmp_path / "saved"
    assert (
        main(
            [
                "analyze",
                "--kind",
                "cp",
                "--d",
                "2",
                "--m",
                "2",
                "--rank",
                "1",
                "--save",
                str(target),
            ]
        )
        == 0
    )
    assert te.load_network(tmp_path / "saved.npz").kind == "cp"


def test_analyze_errors(capsys):
    assert main(["analyze", "--kind", "tt"]) == 2
    assert "missing --d, --m, --rank" in capsys.readouterr().err
    assert (
        main(["analyze", "--kind", "tt", "--d", "4", "--m", "2", "--rank", "2", "--xi", "softplus"])
        == 2
    )
    assert "no shallow-width lower bound is known" in capsys.readouterr().err
    assert (
        main(
            ["analyze", "--kind", "tt", "--d", "4", "--m", "2", "--rank", "2", "--partition", "a,b"]
        )
        == 2
    )
    assert "--partition" in capsys.readouterr().err
    assert main(["analyze", "--load", "/nonexistent.npz"]) == 2
    assert main(["analyze", "--kind", "tt", "--d", "0", "--m", "2", "--rank", "2"]) == 2
    assert "d must be" in capsys.readouterr().err


def test_analyze_long_tt_gets_a_certified_bound(tmp_path, capsys):
    """d = 30: the dense matricization (2^30 entries) exceeds the memory limit, so the bound
    comes from a certified submatrix, saved and re-checked."""
    path = tmp_path / "cert.json"
    args = ["analyze", "--kind", "tt", "--d", "30", "--m", "2", "--rank", "2", "--max-size", "128"]
    assert main([*args, "--certificate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "submatrix" in out and "certified by a 128 x 128 submatrix (structured)" in out
    cert = te.WidthCertificate.load(path)
    assert f"needs width >= {cert.rank}" in out and cert.rank >= 64
    net = te.TTNetwork.random(
        30, te.LinearFeatures.identity(2), rank=2, random_state=np.random.default_rng(0)
    )
    assert te.verify_width_certificate(net, None, cert)


def test_analyze_method_dense_refuses_memory_limit(capsys):
    args = ["analyze", "--kind", "tt", "--d", "8", "--m", "4", "--rank", "2"]
    assert main([*args, "--method", "dense", "--memory-limit", "1MiB"]) == 2
    assert "memory_limit" in capsys.readouterr().err
    assert main([*args, "--memory-limit", "1MiB", "--max-size", "64"]) == 0
    assert "certified by a 64 x 64 submatrix" in capsys.readouterr().out


def test_reproduce_n_jobs_needs_a_parallel_experiment(tmp_path, capsys):
    assert main(["reproduce", "table2", "--quick", "--n-jobs", "2", "--out", str(tmp_path)]) == 2
    assert "runs in one process" in capsys.readouterr().err


def test_analyze_exact_at_large_d(capsys):
    """d = 130 (past numpy's 64 axes): an exact certificate, and the feature diagnostic."""
    args = ["analyze", "--kind", "tt", "--d", "130", "--m", "2", "--rank", "2"]
    assert main([*args, "--max-size", "16", "--method", "exact", "--templates", "4"]) == 0
    out = capsys.readouterr().out
    assert "computed exactly: rank 16 over GF(" in out and "needs width >= 16" in out
    assert "feature matrix on the templates: rank 2 of m = 2" in out
