"""Experiment sweeps through joblib: worker processes, and Dask's joblib backend on a real
distributed.LocalCluster, give the same table as one process."""

from __future__ import annotations

import json

import pytest

from tensorexpr.cli import main
from tensorexpr.experiments import fig3

SMALL = {"quick": True, "n_samples": 3, "distributions": ("gaussian",), "ranks": (1, 4)}


@pytest.fixture(scope="module")
def serial():
    return fig3.run(**SMALL)


def test_joblib_processes_give_the_same_rows(serial):
    parallel = fig3.run(**SMALL, n_jobs=2)
    assert parallel.rows == serial.rows
    assert parallel.summary == serial.summary


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_rows(serial):
    from distributed import Client, LocalCluster, get_task_stream
    from joblib import parallel_config

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
        get_task_stream(client) as tasks,
        parallel_config(backend="dask"),
    ):
        on_dask = fig3.run(**SMALL, n_jobs=-1)
        workers = set(client.scheduler_info()["workers"])
    assert on_dask.rows == serial.rows
    # the networks were analysed by the cluster's workers
    assert tasks.data and {task["worker"] for task in tasks.data} <= workers


@pytest.mark.slow
def test_cli_reproduce_on_a_local_dask_cluster(tmp_path, capsys):
    assert main(["reproduce", "fig3", "--quick", "--dask", "local", "--out", str(tmp_path)]) == 0
    assert "dask: <Client" in capsys.readouterr().err
    summary = json.loads((tmp_path / "fig3.json").read_text())["summary"]
    assert len(summary["variants"]) == 8
