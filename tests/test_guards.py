"""Guards: no dense allocation without a size check, one-line CLI errors, a cp_rank search that
says where it stopped (issue 13)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import tensorly as tl

import tensorexpr as te
from tensorexpr.cli import main

HUGE = dict(d=30, m=3)  # 3^30 entries: 1.5 PiB in float64


def _tt_net(d=HUGE["d"], m=HUGE["m"], rank=2):
    return te.TTNetwork.random(d, te.LinearFeatures.identity(m), rank, random_state=0)


@pytest.mark.parametrize(
    "call",
    [
        lambda net: net.coefficient_tensor(),
        lambda net: te.matricization_rank(net, method="dense"),
        lambda net: te.shallow_width_lower_bound(net, method="dense"),
        lambda net: net.grid_tensor(np.eye(3)),
        lambda net: te.shallow_width_lower_bound(net, templates=np.eye(3), method="dense"),
        lambda net: te.tt_to_ht(net.grid_tensor(np.eye(3), structured=True)).to_tensor(),
    ],
)
def test_dense_forms_of_a_network_are_refused_before_allocating(call):
    """Each path that forms a dense 3^30 tensor says how much it needs, without allocating
    (the bounds' default method="auto" takes a certified submatrix instead: test_certificates)."""
    with pytest.raises(ValueError, match=r"needs [0-9.]+ PiB, more than memory_limit=2\.0 GiB"):
        call(_tt_net())


def test_memory_limit_counts_the_svd_copies_and_can_be_raised():
    net = _tt_net(d=8, m=3, rank=3)  # W has 3^8 entries, 51.3 KiB
    need = 3 * 8 * 3**8
    with pytest.raises(ValueError, match="51.3 KiB each"):
        te.shallow_width_lower_bound(net, memory_limit=need - 1, method="dense")
    found = te.shallow_width_lower_bound(net, memory_limit=need)
    # independent path: the rank of the odd matricization of W formed by hand
    W = np.asarray(net.coefficient_tensor())
    odd = W.transpose(0, 2, 4, 6, 1, 3, 5, 7).reshape(81, 81)
    assert found.rank == np.linalg.matrix_rank(odd)
    with pytest.raises(TypeError, match="memory_limit must be a positive number"):
        net.coefficient_tensor(memory_limit="2GiB")
    with pytest.raises(ValueError, match="memory_limit must be a positive number"):
        te.matricization_rank(net, memory_limit=0)


def test_ht_to_tensor_is_guarded(backend):
    tree = te.DimensionTree.balanced(2)
    ht = te.HTTensor([np.ones((1000, 1)), np.ones((1000, 1)), np.ones((1, 1, 1))], tree)
    with pytest.raises(ValueError, match="needs 7.6 MiB, more than memory_limit=1.0 MiB"):
        ht.to_tensor(memory_limit=2**20)
    assert tl.shape(ht.to_tensor()) == (1000, 1000)


def test_width_conversions_use_min_m_r():
    """The theorem's CP bound for a TT network of width r with m features is min(m, r)^(d/2)."""
    cell = te.width_conversion_bounds(4, 8, m=3)["cp"]["tt"]
    assert (cell.value, cell.formula, cell.exact) == (81, "min(m,r)^(d/2)", False)
    assert te.width_conversion_bounds(4, 8)["cp"]["tt"].value == 256
    assert te.width_conversion_bounds(2, 8, m=3)["cp"]["tt"].value == 16
    # the certified bound of such a network (its matricization rank) equals the table's value
    net = _tt_net(d=8, m=3, rank=4)
    assert te.shallow_width_lower_bound(net).bound == 81


def test_analyze_prints_the_certified_cp_bound(capsys):
    assert main(["analyze", "--kind", "tt", "--d", "8", "--m", "3", "--rank", "4"]) == 0
    out = capsys.readouterr().out
    assert "needs width >= 81" in out
    assert ">= 81  min(m,r)^(d/2)" in out
    assert "256" not in out


def _cli(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "tensorexpr", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _one_error_line(proc) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("tensorexpr: error: ")
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_cli_huge_analyze_is_one_line_that_says_how_much():
    args = ("analyze", "--kind", "tt", "--d", "30", "--m", "3", "--rank", "2", "--method", "dense")
    line = _one_error_line(_cli(*args))
    assert "3^30 entries" in line and "PiB" in line and "--memory-limit" in line


def _main(args) -> int:
    try:
        return main(list(args))
    except SystemExit as exit_:  # argparse's own exits (usage errors, --help)
        return exit_.code


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("reproduce", "table2", "--quick", "--out", "/proc/nope"), "--out /proc/nope"),
        (("analyze", "--bogus"), "unrecognized arguments: --bogus"),
        (("reproduce", "no-such-result", "--out", "/tmp"), "no-such-result"),
        (("analyze", "--kind", "tt", "--d", "4"), "missing --m, --rank"),
        (("analyze", "--load", "/nonexistent/net.npz"), "/nonexistent/net.npz"),
        (("analyze", "--kind", "tt", "--memory-limit", "lots"), "--memory-limit"),
    ],
)
def test_cli_failures_are_one_line_with_status_2(args, expected, capsys):
    assert _main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tensorexpr: error: ")
    assert expected in err[0]


def test_cli_version():
    proc = _cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"tensorexpr {te.__version__}"


def test_cp_rank_default_max_rank_and_where_it_stopped(capsys):
    assert te.decomposition._cp.default_max_rank((30, 30, 30)) == 30
    assert te.decomposition._cp.default_max_rank((2, 2, 2, 2)) == 8
    assert te.decomposition._cp.default_max_rank((100, 3)) == 3
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((4, 4, 4))  # generic: CP rank > 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = te.cp_rank(noise, tol=1e-6, max_rank=2, random_state=0, verbose=True)
    assert not result.reached and result.rank == 2 and set(result.errors) == {1, 2}
    (warning,) = [w for w in caught if "cp_rank stopped" in str(w.message)]
    message = str(warning.message)
    assert "max_rank=2" in message and "ranks 1..2 tried" in message
    assert f"{min(result.errors.values()):.3g}" in message
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["rank 1/2", "rank 2/2"]
