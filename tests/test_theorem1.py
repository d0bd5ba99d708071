"""The first reproduction: `tensorexpr reproduce theorem1 --quick` end to end."""

from __future__ import annotations

import csv
import json

from tensorexpr.cli import main
from tensorexpr.experiments import get_experiment


def test_reproduce_theorem1_quick_writes_table_json_and_plot(tmp_path, capsys):
    assert main(["reproduce", "theorem1", "--quick", "--out", str(tmp_path)]) == 0
    table = list(csv.DictReader((tmp_path / "theorem1.csv").open()))
    rows = [row for row in table if row["method"] == "dense"]
    certified = [row for row in table if row["method"] in ("submatrix", "exact")]
    assert len(rows) == 12 and len(certified) == 1
    # the witness beyond the dense sweep: d = 12 on M = 4 templates, certified by a submatrix
    assert int(certified[0]["d"]) == 12 and certified[0]["witness_exact"] == "True"
    assert int(certified[0]["rank_witness"]) == int(certified[0]["bound"]) == 64
    # exact (the cheapest route): no margin
    assert certified[0]["method"] == "exact" and float(certified[0]["margin"]) == 0.0
    for row in rows:
        d, r, m = int(row["d"]), int(row["r"]), int(row["m"])
        assert int(row["bound"]) == min(m, r) ** (d // 2)
        assert int(row["rank_witness"]) == int(row["bound"])  # attained exactly
        assert int(row["rank_random"]) >= int(row["bound"])  # the theorem
    summary = json.loads((tmp_path / "theorem1.json").read_text())["summary"]
    assert summary["bound_holds_everywhere"] and summary["witness_exact_everywhere"]
    png = (tmp_path / "theorem1.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert "wrote" in capsys.readouterr().out


def test_list_and_unknown_experiment(capsys):
    assert main(["list"]) == 0
    assert "theorem1" in capsys.readouterr().out
    assert main(["reproduce", "nonexistent", "--quick"]) == 2
    assert "unknown experiment 'nonexistent'" in capsys.readouterr().err


def test_seed_changes_random_networks_not_conclusions():
    exp = get_experiment("theorem1")
    a, b = exp.run(quick=True, seed=1), exp.run(quick=True, seed=2)
    assert a.summary["bound_holds_everywhere"] and b.summary["bound_holds_everywhere"]
    assert a.column("bound") == b.column("bound")
