"""Shared fixtures: the backend matrix (numpy, pytorch, jax, tensorflow)."""

from __future__ import annotations

import importlib.util
import os

import pytest
import tensorly as tl

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorexpr as te  # noqa: E402

_MODULES = {"numpy": "numpy", "pytorch": "torch", "jax": "jax", "tensorflow": "tensorflow"}


def _backend_params():
    params = []
    for name, module in _MODULES.items():
        marks = []
        if importlib.util.find_spec(module) is None:
            marks.append(pytest.mark.skip(reason=f"optional backend {module} is not installed"))
        params.append(pytest.param(name, marks=marks, id=name))
    return params


@pytest.fixture(params=_backend_params())
def backend(request):
    """Run the test under each TensorLy backend, then restore numpy."""
    te.set_backend(request.param)
    try:
        yield request.param
    finally:
        tl.set_backend("numpy")


@pytest.fixture(autouse=True)
def _numpy_backend_by_default():
    """Every test starts on numpy unless it asks for ``backend``."""
    yield
    tl.set_backend("numpy")
