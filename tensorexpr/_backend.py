"""Backend switching and the small numeric helpers every module shares.

tensorexpr computes with tensorly's backend functions only, so one call to
:func:`set_backend` switches every network, grid tensor and decomposition.
"""

from __future__ import annotations

import numpy as np
import tensorly as tl

__all__ = ["set_backend", "get_backend"]

BACKENDS = ("numpy", "pytorch", "jax", "tensorflow")


def set_backend(backend: str) -> None:
    """Switch the TensorLy backend used by every tensorexpr function.

    Same as :func:`tensorly.set_backend`; for ``"jax"`` it also enables 64-bit
    floats (``jax_enable_x64``), since certified ranks are computed in float64.

    Parameters
    ----------
    backend : {"numpy", "pytorch", "jax", "tensorflow"}
        Name of the backend.

    Returns
    -------
    None

    Examples
    --------
    >>> import tensorexpr as te
    >>> te.set_backend("numpy")
    >>> te.get_backend()
    'numpy'
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
    tl.set_backend(backend)


def get_backend() -> str:
    """Name of the current TensorLy backend.

    Returns
    -------
    str
        One of ``"numpy"``, ``"pytorch"``, ``"jax"``, ``"tensorflow"``.

    Examples
    --------
    >>> import tensorexpr as te
    >>> te.get_backend() in ("numpy", "pytorch", "jax", "tensorflow")
    True
    """
    return tl.get_backend()


def float64():
    """The float64 dtype of the current backend (``tl.float64`` is bound to numpy's)."""
    return tl.backend.float64


def float32():
    return tl.backend.float32


def is_float64(tensor) -> bool:
    return "float64" in str(tl.context(tensor)["dtype"])


def to_numpy(tensor, name: str = "tensor") -> np.ndarray:
    """A numpy copy of a numpy array, list or tensor of any backend."""
    if tl.is_tensor(tensor):
        return np.asarray(tl.to_numpy(tensor))
    for mod in ("torch", "jax", "tensorflow"):
        # tensors of another backend than the current one
        if type(tensor).__module__.split(".")[0] in (mod, "jaxlib"):
            return np.asarray(tensor.numpy() if hasattr(tensor, "numpy") else tensor)
    try:
        return np.asarray(tensor)
    except Exception as exc:  # pragma: no cover - defensive
        raise TypeError(f"{name} must be array-like, got {type(tensor).__name__}") from exc


def relu(x):
    """``max(x, 0)`` elementwise, exact, on every backend (torch's maximum wants tensors)."""
    return (x + tl.abs(x)) / 2


def tensor_like(array: np.ndarray, like=None):
    """``array`` as a tensor of the current backend, with ``like``'s dtype (default float64)."""
    if like is None:
        return tl.tensor(array, dtype=float64())
    return tl.tensor(array, **tl.context(like))
