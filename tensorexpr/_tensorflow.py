"""TensorFlow, imported lazily: only the engine and the TensorFlow forms of the building blocks
need it, and importing it takes seconds.

The one process-wide setting tensorexpr makes is an environment default:
``TF_CPP_MIN_LOG_LEVEL=2`` (TensorFlow's C++ INFO and WARNING lines off), set with
``os.environ.setdefault`` just before TensorFlow is first imported, so a value the user set
(in the shell or before importing TensorFlow) is kept. Nothing is changed once TensorFlow is
imported (not its Python logger, not its thread settings).
"""

from __future__ import annotations

import os
import sys

__all__ = ["import_tensorflow", "tensorflow_imported"]


def import_tensorflow():
    """The ``tensorflow`` module, imported on first use.

    Returns
    -------
    module
        ``tensorflow``.
    """
    if "tensorflow" not in sys.modules:
        # before the first import only: TensorFlow reads the variable once, when it loads
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow

    return tensorflow


def tensorflow_imported() -> bool:
    """Whether TensorFlow has been imported in this process (by anyone)."""
    return "tensorflow" in sys.modules
