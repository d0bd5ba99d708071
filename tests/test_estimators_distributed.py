"""Training beyond one device and one process: tf.distribute, joblib workers, Dask."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from estimators import TTNetworkClassifier  # noqa: E402

# Logical devices must be configured before TensorFlow starts, so this runs in a fresh
# interpreter: 2 logical CPUs, a MirroredStrategy over them, the same fit with and without.
_MIRRORED = textwrap.dedent(
    """
    import warnings
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from sklearn.datasets import make_moons
    from estimators import TTNetworkClassifier
    X, y = make_moons(300, noise=0.2, random_state=0)
    warnings.simplefilter("ignore")
    params = dict(rank=4, n_features=8, max_iter=10, dropout=0.1, batch_size=31,
                  dtype="float64", early_stopping=False, random_state=0)
    single = TTNetworkClassifier(**params).fit(X, y)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        mirrored = TTNetworkClassifier(**params).fit(X, y)
    gap = np.max(np.abs(single.decision_function(X) - mirrored.decision_function(X)))
    print(strategy.num_replicas_in_sync, single.score(X, y), mirrored.score(X, y), gap)
    """
)


@pytest.mark.slow
def test_mirrored_strategy_gives_the_single_device_fit():
    out = subprocess.run(
        [sys.executable, "-c", _MIRRORED],
        capture_output=True,
        text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    replicas, single, mirrored, gap = out.stdout.split()[-4:]
    assert int(replicas) == 2
    assert float(single) > 0.8  # it learned something
    assert float(mirrored) == float(single)  # same accuracy
    assert float(gap) < 1e-8  # float64: the same fit up to rounding


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 5 epochs
def test_grid_search_on_a_dask_local_cluster():
    import distributed  # in the test extra: a missing one fails, never skips
    from joblib import parallel_backend

    X, y = make_moons(120, noise=0.2, random_state=0)
    search = GridSearchCV(
        TTNetworkClassifier(rank=4, max_iter=5, random_state=0),
        {"n_features": [4, 8]},
        cv=2,
    )
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
        parallel_backend("dask"),
    ):
        search.fit(X, y)
        workers = len(client.scheduler_info()["workers"])
    serial = GridSearchCV(search.estimator, search.param_grid, cv=2).fit(X, y)
    assert workers == 2
    assert search.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 3 epochs
def test_grid_search_on_joblib_threads_equals_serial():
    # each thread trains on its own cached trainer (engine cache keyed per thread)
    import threading

    from joblib import parallel_backend

    X, y = make_moons(120, noise=0.2, random_state=0)
    X = np.repeat(X, 4, axis=1)  # 4 positions of 2 values: dropout and a shared core in play
    seen = set()

    class Recording(TTNetworkClassifier):
        def fit(self, X, y, sample_weight=None):
            seen.add(threading.get_ident())
            return super().fit(X, y, sample_weight)

    search = GridSearchCV(
        Recording(rank=4, max_iter=3, n_inputs=2, random_state=0), {"alpha": [0.0, 1e-3]}, cv=3
    )
    with parallel_backend("threading", n_jobs=2):
        search.fit(X, y)
    serial = GridSearchCV(search.estimator, search.param_grid, cv=3).fit(X, y)
    assert len(seen) >= 2
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
