"""Backend switching and the small numeric helpers every module shares.

tensorexpr computes with tensorly's backend functions only, so one call to
:func:`set_backend` switches every network, grid tensor and decomposition.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import tensorly as tl

__all__ = ["set_backend", "get_backend", "backend_context"]

BACKENDS = ("numpy", "pytorch", "jax", "tensorflow")

#: Default budget (bytes) for a dense tensor formed from a network or a factorized tensor, and
#: the work arrays that build it.
DEFAULT_MEMORY_LIMIT = 2**31


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
    _prepare_backend(backend)
    tl.set_backend(backend)


def _prepare_backend(backend) -> None:
    if not isinstance(backend, str):
        raise TypeError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
    elif backend == "tensorflow":
        from ._tensorflow import import_tensorflow

        import_tensorflow()  # before tensorly does: the same environment default and filter


@contextlib.contextmanager
def backend_context(backend: str, local_threadsafe: bool = False) -> Iterator[None]:
    """Switch the backend inside a ``with`` block only (:func:`tensorly.backend_context`).

    The previous backend comes back when the block ends, also on an exception. With
    ``local_threadsafe=True`` only the calling thread switches (other threads, e.g. other
    joblib workers of the ``"threading"`` backend, keep theirs); process workers (joblib's
    default ``"loky"``) start on numpy and switch with the block they run.

    Parameters
    ----------
    backend : {"numpy", "pytorch", "jax", "tensorflow"}
        Name of the backend inside the block (``"jax"`` also enables 64-bit floats, as
        :func:`set_backend`).
    local_threadsafe : bool, default False
        Switch the calling thread only.

    Yields
    ------
    None
        The block runs with ``backend`` current.

    Examples
    --------
    >>> import tensorexpr as te
    >>> te.set_backend("numpy")
    >>> with te.backend_context("numpy"):
    ...     te.get_backend()
    'numpy'
    >>> te.get_backend()
    'numpy'
    """
    _prepare_backend(backend)
    with tl.backend_context(backend, local_threadsafe=local_threadsafe):
        yield


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


#: Top-level modules of the array types of every TensorLy backend.
_ARRAY_MODULES = ("numpy", "torch", "jax", "jaxlib", "tensorflow")


def to_numpy(tensor, name: str = "tensor") -> np.ndarray:
    """A numpy array from a numpy array, a list, or a tensor of any backend (not only the
    current one); raises TypeError for anything that is not array-like."""
    if tl.is_tensor(tensor):
        return np.asarray(tl.to_numpy(tensor))
    module = type(tensor).__module__.split(".")[0]
    if module == "torch":
        return tensor.detach().cpu().resolve_conj().numpy()
    if module == "tensorflow":
        return np.asarray(tensor.numpy() if hasattr(tensor, "numpy") else tensor)
    if tensor is None or isinstance(tensor, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be a tensor or an array-like, got {type(tensor).__name__}")
    try:
        return np.asarray(tensor)
    except Exception as exc:
        raise TypeError(
            f"{name} must be a tensor or an array-like, got {type(tensor).__name__}"
        ) from exc


def real_float_array(x, name: str) -> np.ndarray:
    """``x`` as a real float numpy array (float32 kept, every other real dtype float64); a
    non-numeric, complex or object input raises TypeError naming ``name``. Finiteness and shape
    are the caller's (:func:`tensorexpr.validation.as_float_array` checks both)."""
    arr = to_numpy(x, name)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    return arr if arr.dtype == np.float32 else arr.astype(np.float64)


def to_backend(x, name: str = "tensor"):
    """The one rule for foreign inputs (docs/backends.md): ``x`` as a real float tensor of the
    current backend.

    A float32 / float64 tensor of the current backend is returned as it is (no copy); anything
    else array-like (a numpy array, a list, a tensor made under another backend, an integer or
    boolean tensor) is copied through numpy into a tensor of the current backend, float32 staying
    float32 and every other dtype becoming float64. Complex, object, string and other
    non-numeric inputs raise TypeError naming ``name``. Finiteness is not checked here.
    """
    if tl.is_tensor(x) and not isinstance(x, (str, bytes)):
        dtype = str(tl.context(x)["dtype"])
        if "float32" in dtype or "float64" in dtype:
            return x
        if "complex" in dtype:
            raise TypeError(f"{name} must be real, got dtype {dtype}")
    arr = real_float_array(x, name)
    # torch refuses numpy arrays with negative strides (a flipped view): copy to C order
    arr = np.ascontiguousarray(arr)
    return tl.tensor(arr, dtype=float32() if arr.dtype == np.float32 else float64())


def factors_to_backend(factors, name: str) -> list:
    """Every factor of a factorized tensor (TT cores, HT factors, CP factors) through
    :func:`to_backend`; ``name[k]`` names a bad one."""
    if (
        tl.is_tensor(factors)
        or isinstance(factors, (str, bytes))
        or not hasattr(factors, "__iter__")
    ):
        raise TypeError(f"{name} must be a list of factors, got {type(factors).__name__}")
    return [to_backend(f, f"{name}[{k}]") for k, f in enumerate(factors)]


def all_finite(tensor) -> bool:
    """Whether a tensor of the current backend holds only finite values (one pass)."""
    return bool(tl.to_numpy(tl.all(tl.abs(tensor) < np.inf)))


#: Backends whose ``transpose`` is a view that their matrix product reads in place (BLAS
#: transpose flags); on jax and tensorflow ``tl.transpose`` copies, and ``tl.einsum`` reaches
#: the transposed product directly (measured, 100 x 10^4 Gram, one thread: tensorflow 31 ms
#: by dot(A, transpose(A)) vs 10 ms by einsum; numpy 5 ms vs 111 ms the other way round).
_VIEW_TRANSPOSE = ("numpy", "pytorch")


#: Entries below which a transposed copy is cheaper than an einsum call (jax, tensorflow).
_SMALL = 2**14


def _size(tensor) -> int:
    size = 1
    for n in tl.shape(tensor):
        size *= int(n)
    return size


def transposes_are_views() -> bool:
    """Whether the current backend's transpose is a free view (numpy, pytorch); on jax and
    tensorflow a transposed product is better written as ``tl.einsum``."""
    return tl.get_backend() in _VIEW_TRANSPOSE


def dot_t(a, b, transpose_a: bool = False, transpose_b: bool = False):
    """The matrix product ``op(a) @ op(b)``, ``op`` the transpose where asked, without
    materialising a transposed copy on any backend (see ``_VIEW_TRANSPOSE``)."""
    # a small operand is transposed outright: one cheap copy beats einsum's overhead
    small_a = not transpose_a or _size(a) <= _SMALL
    small_b = not transpose_b or _size(b) <= _SMALL
    if transposes_are_views() or (small_a and small_b):
        return tl.dot(tl.transpose(a) if transpose_a else a, tl.transpose(b) if transpose_b else b)
    spec = ("ji" if transpose_a else "ij") + "," + ("kj" if transpose_b else "jk") + "->ik"
    return tl.einsum(spec, a, b)


def relu(x):
    """``max(x, 0)`` elementwise, exact, on every backend (torch's maximum wants tensors)."""
    return (x + tl.abs(x)) / 2


def tensor_like(array: np.ndarray, like=None):
    """``array`` as a tensor of the current backend, with ``like``'s dtype (default float64)."""
    if like is None:
        return tl.tensor(array, dtype=float64())
    return tl.tensor(array, **tl.context(like))


def format_bytes(n_bytes: float) -> str:
    """``n_bytes`` in the largest binary unit that keeps the number >= 1 ("1.5 GiB")."""
    if n_bytes >= 1024**7:  # beyond EiB: exact int arithmetic, float() could overflow
        digits = len(str(int(n_bytes) // 1024**6)) - 1
        return f"{int(n_bytes) // 1024**6 // 10 ** max(0, digits - 2) / 10**2:.2f}e{digits} EiB"
    value = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024 or unit == "EiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    raise AssertionError  # pragma: no cover


def check_memory(n_bytes: int, memory_limit: int, what: str) -> None:
    """Refuse, before allocating, a dense object of ``n_bytes`` above ``memory_limit``.

    The message says how much ``what`` needs; integer arithmetic, so a size such as ``3^30``
    entries is reported exactly instead of overflowing.
    """
    if n_bytes > memory_limit:
        raise ValueError(
            f"{what} needs {format_bytes(n_bytes)}, more than memory_limit="
            f"{format_bytes(memory_limit)}; use a smaller problem (fewer templates or "
            "features, a smaller d) or raise memory_limit (tensorexpr analyze: --memory-limit)"
        )


def dense_bytes(shape) -> int:
    """Bytes of a float64 tensor of ``shape`` (exact Python ints: no overflow)."""
    size = 1
    for n in shape:
        size *= int(n)
    return 8 * size
