"""Backend switching and the small numeric helpers every module shares.

tensorexpr computes with tensorly's backend functions only, so one call to
:func:`set_backend` switches every network, grid tensor and decomposition.
"""

from __future__ import annotations

import numbers

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


def dtype_of(name: str):
    """Backend dtype from ``"float32"`` / ``"float64"``."""
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {name!r}")
    return getattr(tl.backend, name)


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


def as_float_array(x, name: str, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Validate ``x`` as a finite real float array (numpy, float64 unless float32 given)."""
    arr = to_numpy(x, name)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must be {want}-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


def check_tensor(x, name: str = "tensor"):
    """Validate a tensor argument: a backend tensor (or array-like) of finite reals.

    Returns a tensor of the current backend; float32 input stays float32, anything
    else becomes float64.
    """
    if tl.is_tensor(x):
        ctx = tl.context(x)
        dtype = str(ctx["dtype"])
        if "complex" in dtype:
            raise TypeError(f"{name} must be real, got dtype {dtype}")
        if not ("float32" in dtype or "float64" in dtype):
            x = tl.tensor(tl.to_numpy(x), dtype=float64())
        if not bool(tl.to_numpy(tl.all(tl.abs(x) < np.inf))):
            raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
        return x
    arr = as_float_array(x, name)
    return tl.tensor(arr, dtype=float32() if arr.dtype == np.float32 else float64())


def check_random_state(random_state) -> np.random.Generator:
    """A numpy Generator from None, an int, a Generator or a RandomState."""
    if random_state is None or isinstance(random_state, numbers.Integral):
        if isinstance(random_state, numbers.Integral) and random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}")
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise TypeError(
        f"random_state must be None, an int or a numpy Generator, got {type(random_state).__name__}"
    )


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return int(value)


def relu(x):
    """``max(x, 0)`` elementwise, exact, on every backend (torch's maximum wants tensors)."""
    return (x + tl.abs(x)) / 2


def tensor_like(array: np.ndarray, like=None):
    """``array`` as a tensor of the current backend, with ``like``'s dtype (default float64)."""
    if like is None:
        return tl.tensor(array, dtype=float64())
    return tl.tensor(array, **tl.context(like))
