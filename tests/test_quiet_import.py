"""What importing ``estimators`` and fitting at ``verbose=0`` prints in a fresh process.

Measured (TensorFlow 2.21, CPU-only machine): nothing on stdout; on stderr only the lines the
TensorFlow C++ runtime writes while it loads, before its logging is initialised
(``WARNING: All log messages before absl::InitializeLog() ...``, the oneDNN notice, the
"Could not find cuda drivers" / ``cuInit`` lines), which no Python-side setting reaches (see
README.md). The lines that ``TF_CPP_MIN_LOG_LEVEL`` does control (the CPU-instructions notice,
XLA's start-up lines) are gone thanks to tensorexpr's environment default -- and come back when
the user sets the variable themselves, which tensorexpr never overrides.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import logging, warnings
import numpy as np
from estimators import TTNetworkClassifier, HTNetworkRegressor
X = np.random.default_rng(0).uniform(size=(600, 4))
y = (X.sum(axis=1) > 2).astype(int)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # ConvergenceWarning of the short fits: not what we measure
    TTNetworkClassifier(rank=2, max_iter=2, random_state=0).fit(X, y).predict(X)  # float32, XLA
    TTNetworkClassifier(rank=2, max_iter=2, random_state=0).fit(X[:50], y[:50]).predict(X)
    HTNetworkRegressor(rank=2, max_iter=2, random_state=0).fit(X[:50], X[:50, 0]).predict(X)
import tensorflow as tf
print("LOGGER", logging.getLogger("tensorflow").level, tf.get_logger().level)
"""

#: what the TensorFlow runtime prints while it loads, before any Python setting can act
RUNTIME_PREFIXES = (
    "WARNING: All log messages before absl::InitializeLog()",
    "I0000 ",
    "W0000 ",
    "E0000 ",
)


def _run(env_updates: dict) -> tuple[str, list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(env_updates)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, [line for line in done.stderr.splitlines() if line.strip()]


@pytest.mark.slow
def test_fit_at_verbose_0_prints_only_what_tensorflow_prints_while_loading():
    stdout, stderr = _run({})
    # nothing of ours on stdout; TensorFlow's logger keeps the level TensorFlow gives it (NOTSET)
    assert stdout.splitlines() == ["LOGGER 0 0"]
    unexpected = [line for line in stderr if not line.startswith(RUNTIME_PREFIXES)]
    assert not unexpected, "\n".join(stderr)
    # the lines TF_CPP_MIN_LOG_LEVEL controls are gone (environment default "2")
    assert not any("cpu_feature_guard" in line or "XLA service" in line for line in stderr)
    # no Python-side TensorFlow warnings (retracing, ...) at verbose=0
    assert not any("tf.function retracing" in line for line in stderr)


@pytest.mark.slow
def test_a_users_own_log_level_is_kept():
    _, stderr = _run({"TF_CPP_MIN_LOG_LEVEL": "0"})
    # the user asked for everything: the CPU-instructions notice is back
    assert any("cpu_feature_guard" in line or "XLA service" in line for line in stderr), stderr
