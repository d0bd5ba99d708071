"""What importing ``estimators`` and fitting at ``verbose=0`` prints in a fresh process.

Measured (TensorFlow 2.21, CPU-only machine, README.md "What TensorFlow prints"): without
tensorexpr, TensorFlow's runtime prints while it loads, twice, the absl banner ``WARNING: All
log messages before absl::InitializeLog() ...``, the oneDNN notice and "Could not find cuda
drivers", then ``failed call to cuInit`` at the first operation; no environment variable
reaches the first three (they come before TensorFlow reads ``TF_CPP_MIN_LOG_LEVEL``).
tensorexpr filters stderr while TensorFlow loads (tensorexpr/_tensorflow.py): by default only
the ``E0000 ... failed call to cuInit`` line remains, with ``CUDA_VISIBLE_DEVICES=-1`` (or
``""``) nothing, and a user's ``TF_CPP_MIN_LOG_LEVEL=0`` brings every line back.
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


def _run(env_updates: dict) -> tuple[str, list[str]]:
    unset = ("TF_CPP_MIN_LOG_LEVEL", "CUDA_VISIBLE_DEVICES")
    env = {k: v for k, v in os.environ.items() if k not in unset}
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
def test_fit_at_verbose_0_prints_only_errors():
    stdout, stderr = _run({})
    # nothing of ours on stdout; TensorFlow's logger keeps the level TensorFlow gives it (NOTSET)
    assert stdout.splitlines() == ["LOGGER 0 0"]
    # what remains is error-level: "failed call to cuInit" on a machine without a GPU
    assert all(line.startswith("E0000 ") for line in stderr), "\n".join(stderr)
    assert all("cuInit" in line for line in stderr), "\n".join(stderr)
    assert not any("tf.function retracing" in line for line in stderr)


@pytest.mark.slow
def test_no_line_at_all_when_gpus_are_switched_off():
    stdout, stderr = _run({"CUDA_VISIBLE_DEVICES": "-1"})
    assert stdout.splitlines() == ["LOGGER 0 0"]
    assert stderr == []


@pytest.mark.slow
def test_a_users_own_log_level_is_kept():
    _, stderr = _run({"TF_CPP_MIN_LOG_LEVEL": "0"})
    # the user asked for everything: the banner and the CPU-instructions notice are back
    assert any(line.startswith("WARNING: All log messages before absl") for line in stderr)
    assert any("cpu_feature_guard" in line or "XLA service" in line for line in stderr), stderr


# -- the filter itself ---------------------------------------------------------------------

LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796179005.907427   12039 port.cc:153] oneDNN custom operations are on.",
    "I0000 00:00:1796179005.907780   12039 cudart_stub.cc:31] Could not find cuda drivers",
    "W0000 00:00:1796179005.907780   12039 some_file.cc:31] a warning",
    "E0000 00:00:1796179018.378007   12039 cuda_platform.cc:52] failed call to cuInit: INTERNAL",
    "E0000 00:00:1796179018.378007   12039 other.cc:52] a real error",
    "F0000 00:00:1796179018.378007   12039 other.cc:52] a fatal error",
    "Traceback (most recent call last):",
    "I0000 is not the start of a runtime line",
]


def _filtered(level: int, no_gpu: bool) -> list[str]:
    from tensorexpr._tensorflow import _FILTER

    done = subprocess.run(
        [sys.executable, "-c", _FILTER, str(level), "1" if no_gpu else "0"],
        input="\n".join(LINES) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_filter_applies_tensorflows_own_levels():
    assert _filtered(0, False) == LINES
    assert _filtered(1, False) == [LINES[3], *LINES[4:]]
    assert _filtered(2, False) == LINES[4:]
    assert _filtered(3, False) == LINES[6:]
    # no GPU asked for: CUDA's start-up lines report no error
    assert _filtered(0, True) == [LINES[0], LINES[1], LINES[3], *LINES[5:]]
    assert _filtered(2, True) == LINES[5:]


FAKE_TENSORFLOW = """
import os, sys
os.write(2, b"I0000 00:00:1.5   7 fake.cc:1] an info line\\n")
os.write(2, b"E0000 00:00:1.5   7 fake.cc:2] the error before the failure\\n")
if os.environ["FAKE_TF"] == "abort":
    os.abort()
raise ImportError("this TensorFlow cannot load")
"""


@pytest.mark.parametrize("how", ["raise", "abort"])
def test_what_a_failing_import_prints_still_shows(tmp_path, how):
    """A TensorFlow that fails to load (an ImportError, or a crash of its runtime): its error
    lines reach stderr through the filter, the info line does not. A stand-in module plays
    the failing TensorFlow, which the real one cannot be made to do."""
    (tmp_path / "tensorflow.py").write_text(FAKE_TENSORFLOW)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(FAKE_TF=how, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tensorexpr._tensorflow import import_tensorflow\nimport_tensorflow()",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert "E0000 00:00:1.5   7 fake.cc:2] the error before the failure" in lines
    assert not any("an info line" in line for line in lines)
    if how == "raise":
        assert lines[-1] == "ImportError: this TensorFlow cannot load"
