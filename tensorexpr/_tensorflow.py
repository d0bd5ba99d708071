"""TensorFlow, imported lazily: only the engine and the TensorFlow forms of the building blocks
need it, and importing it takes seconds.

What tensorexpr does when it first imports TensorFlow (README.md, "What TensorFlow prints"):

1. ``TF_CPP_MIN_LOG_LEVEL=2`` is set with ``os.environ.setdefault`` (TensorFlow's C++ INFO and
   WARNING lines off); a value the user set, in the shell or in Python before, is kept.
2. TensorFlow's runtime writes a few lines while it loads, before it reads that variable
   (twice: two of its libraries each print them). For the time of the import only, the
   process's stderr passes through a filter (a small child process, so that nothing is lost
   if TensorFlow aborts) that applies the level to those lines: an ``I0000 ...`` line is
   dropped from level 1 on, a ``W0000 ...`` line from level 2 on, an ``E0000 ...`` line from
   level 3 on (TensorFlow's own meaning of the variable), and the absl banner ``WARNING: All
   log messages before absl::InitializeLog() ...`` from level 1 on. Every other line passes.
3. When the user has switched GPUs off (``CUDA_VISIBLE_DEVICES`` set to ``""`` or ``-1``),
   TensorFlow's devices are listed inside the same window, and its CUDA start-up lines
   ("Could not find cuda drivers", "failed call to cuInit") are dropped too: no GPU was asked
   for, so they report no error. Otherwise the ``E0000 ... failed call to cuInit`` line stays:
   on a machine with a GPU it is a real error.

Nothing is changed once TensorFlow is imported (not its Python logger, not its threads).
``TF_CPP_MIN_LOG_LEVEL=0`` shows every line, as without tensorexpr.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading

__all__ = ["import_tensorflow", "tensorflow_imported"]

_LOCK = threading.Lock()

#: the child process that filters stderr while TensorFlow loads (argv: level, no_gpu)
_FILTER = r"""
import re, sys
level, no_gpu = int(sys.argv[1]), sys.argv[2] == "1"
severity = {"I": 0, "W": 1, "E": 2, "F": 3}
banner = b"WARNING: All log messages before absl::InitializeLog() is called"
runtime = re.compile(rb"^([IWEF])\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w.]+:\d+\] ")
cuda = re.compile(rb"\] (Could not find cuda drivers|failed call to cuInit)")
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    match = runtime.match(line)
    if match:
        drop = severity[match[1].decode()] < level or (no_gpu and cuda.search(line))
    else:
        drop = line.startswith(banner) and level >= 1
    if not drop:
        out.write(line)
        out.flush()
"""


def _log_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def _no_gpu_wanted() -> bool:
    return os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1")


@contextlib.contextmanager
def _startup_lines_filtered(level: int, no_gpu: bool):
    """stderr (file descriptor 2) through :data:`_FILTER` for the time of the block."""
    if level < 1 and not no_gpu:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no stderr to filter
        yield
        return
    read, write = os.pipe()
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", _FILTER, str(level), "1" if no_gpu else "0"],
            stdin=read,
            stdout=saved,
            stderr=saved,
        )
    except (OSError, ValueError):  # no interpreter to start: no filter
        for fd in (read, write, saved):
            os.close(fd)
        yield
        return
    os.close(read)
    os.dup2(write, 2)
    os.close(write)
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
        os.dup2(saved, 2)  # the pipe's last writer closes: the filter reads to the end
        os.close(saved)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - a filter that hangs
            child.kill()


def import_tensorflow():
    """The ``tensorflow`` module, imported on first use (see the module docstring for the
    environment default and the start-up lines filtered while it loads).

    Returns
    -------
    module
        ``tensorflow``.
    """
    if "tensorflow" not in sys.modules:
        with _LOCK:
            if "tensorflow" not in sys.modules:
                # before the first import only: TensorFlow reads the variable once, when it loads
                os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
                no_gpu = _no_gpu_wanted()
                with _startup_lines_filtered(_log_level(), no_gpu):
                    import tensorflow

                    if no_gpu:  # CUDA's start-up lines inside the window
                        tensorflow.config.list_physical_devices("GPU")
    import tensorflow

    return tensorflow


def tensorflow_imported() -> bool:
    """Whether TensorFlow has been imported in this process (by anyone)."""
    return "tensorflow" in sys.modules
