"""The tensorexpr command: list, reproduce, analyze; errors exit with code 2."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tensorexpr as te
from tensorexpr.cli import ANALYZE_EXAMPLES, REPRODUCE_EXAMPLES, main

ROOT = Path(__file__).resolve().parents[1]


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
    assert "--load must be an existing .npz file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["analyze", "--kind", "tt", "--d", "0", "--m", "2", "--rank", "2"])
    assert stop.value.code == 2
    assert "argument --d: must be an int >= 1, got 0" in capsys.readouterr().err


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
    err = capsys.readouterr().err
    assert "--memory-limit 1.0 MiB" in err and "memory_limit" not in err
    assert main([*args, "--memory-limit", "1MiB", "--max-size", "64"]) == 0
    assert "certified by a 64 x 64 submatrix" in capsys.readouterr().out


def test_reproduce_n_jobs_needs_a_parallel_experiment(tmp_path, capsys):
    assert main(["reproduce", "table2", "--quick", "--n-jobs", "2", "--out", str(tmp_path)]) == 2
    assert "runs in one process" in capsys.readouterr().err


# -- the command answers at once, and says what it takes --------------------------------------

HEAVY = ("numpy", "scipy", "tensorly", "sklearn", "tensorflow", "matplotlib", "torch", "jax")


def _fresh(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_import_no_numerical_library(flag):
    """What makes ``tensorexpr --version`` / ``--help`` answer in about 0.1 s (measured in
    benchmarks/results/cli_timings.md): ``import tensorexpr`` is lazy, and the top-level
    parser builds no sub-command's options."""
    done = _fresh(
        "import sys\n"
        "from tensorexpr.cli import main\n"
        "try:\n"
        f"    main([{flag!r}])\n"
        "except SystemExit as stop:\n"
        "    assert stop.code == 0, stop.code\n"
        f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "LOADED []", done.stdout
    assert ("tensorexpr 0." in done.stdout) if flag == "--version" else ("analyze" in done.stdout)


def test_import_tensorexpr_is_lazy_and_every_public_name_resolves():
    done = _fresh(
        "import sys, tensorexpr as te\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "print(te.TTNetwork.__module__, te.cp.__module__, te.cross.maxvol.__name__)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "[]",
        "tensorexpr.networks.tt tensorexpr.decomposition._cp maxvol",
    ]
    # __all__ and the table of lazy names agree, and each name is the object its module defines
    assert sorted(te.__all__) == sorted(te._EXPORTS)
    assert len(set(te.__all__)) == len(te.__all__)
    import importlib

    for name, module in te._EXPORTS.items():
        assert getattr(te, name) is getattr(importlib.import_module(f"tensorexpr.{module}"), name)
    assert set(te.__all__) <= set(dir(te))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        te.nope  # noqa: B018


def test_reproduce_help_lists_every_setting(capsys):
    from tensorexpr.cli import _settings
    from tensorexpr.experiments import get_experiment, list_experiments

    with pytest.raises(SystemExit):
        main(["reproduce", "--help"])
    out = capsys.readouterr().out
    for name in list_experiments():
        settings = _settings(get_experiment(name))
        if not settings:
            assert f"\n  {name}: none\n" in out
            continue
        lines = out.split(f"\n  {name}:\n", 1)[1].split("\n")[: len(settings)]
        assert [line.strip().split("=")[0] for line in lines] == list(settings), lines
    for example in REPRODUCE_EXAMPLES:
        assert example in out


@pytest.mark.parametrize("example", REPRODUCE_EXAMPLES + ANALYZE_EXAMPLES)
def test_every_example_of_the_help_runs(example, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # --out results, cert.json land here
    words = shlex.split(example)
    assert words[0] == "tensorexpr"
    assert main(words[1:]) == 0, capsys.readouterr().err
    assert "needs width >=" in capsys.readouterr().out or (tmp_path / "results").is_dir()


def test_errors_name_the_flag_typed_and_point_to_help(capsys):
    net = ["analyze", "--kind", "tt", "--d", "6", "--m", "2", "--rank", "2"]
    assert main([*net, "--partition", "0,9"]) == 2
    err = capsys.readouterr().err
    assert "--partition 0,9: modes must lie in 0..5" in err and "row_modes" not in err
    assert "(see `tensorexpr analyze --help`)" in err
    assert main([*net, "--partition", "1,1"]) == 2
    assert "--partition 1,1: a mode is repeated" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main([*net, "--memory-limit", "1e400"])
    assert stop.value.code == 2
    assert "argument --memory-limit: must be a size below" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*net, "--max-size", "0"])
    assert "argument --max-size: must be an int >= 1" in capsys.readouterr().err
    assert main(["reproduce", "theorem1", "--quick", "--set", "d=8"]) == 2
    err = capsys.readouterr().err
    assert "--set d: not a setting of 'theorem1'; it takes no settings" in err
    assert "(see `tensorexpr reproduce --help`)" in err
    assert main(["reproduce", "fig3", "--quick", "--set", "d=abc"]) == 2
    assert "--set d: expected an int, got 'abc'" in capsys.readouterr().err
    assert main(["reproduce", "fig3", "--quick", "--set", "ranks=3"]) == 2
    assert "--set ranks: expected a JSON list like [1, 2, 4, 8], got 3" in capsys.readouterr().err


def test_a_count_at_the_margin_says_so():
    from tensorexpr.cli import _margin_note

    note = _margin_note(1.56e-14, 1.55e-14)
    assert "1.56e-14" in note and "1.01 x the margin (1.55e-14)" in note
    assert _margin_note(1.0, 1e-14) is None
    assert _margin_note(1.0, 0.0) is None


def test_analyze_exact_at_large_d(capsys):
    """d = 130 (past numpy's 64 axes): an exact certificate, and the feature diagnostic."""
    args = ["analyze", "--kind", "tt", "--d", "130", "--m", "2", "--rank", "2"]
    assert main([*args, "--max-size", "16", "--method", "exact", "--templates", "4"]) == 0
    out = capsys.readouterr().out
    assert "computed exactly: rank 16 over GF(" in out and "needs width >= 16" in out
    assert "feature matrix on the templates: rank 2 of m = 2" in out
