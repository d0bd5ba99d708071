"""Argument checks shared by every module: one contract for bad input.

A wrong type raises TypeError, a wrong value ValueError; the message names the argument,
what was expected and what was given: ``"rank must be an int >= 1, got 0"``.
"""

from __future__ import annotations

import numbers
import os
import re
from collections.abc import Iterable

import numpy as np
import tensorly as tl

from ._backend import all_finite, format_bytes, real_float_array, to_backend, to_numpy

__all__ = [
    "check_positive_int",
    "check_real",
    "check_rank",
    "check_choice",
    "as_float_array",
    "check_tensor",
    "check_random_state",
    "check_verbose",
    "check_sample_weight",
    "check_memory_limit",
    "check_size",
    "check_dense_order",
    "MAX_DENSE_ORDER",
    "machine_memory",
    "check_callable_output",
    "callable_name",
]


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` (bools are not ints here)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_rank(rank, lengths: int | tuple[int, ...], what: str, name: str = "rank"):
    """A rank given as one int >= 1, or as a list of ints >= 1 of one of the ``lengths``.

    Returns the int or the list; ``what`` describes the list in the message
    (``"rank must be a positive int or a list of {what}, got ..."``).
    """
    expected = f"{name} must be a positive int or a list of {what}"
    if isinstance(rank, numbers.Integral) and not isinstance(rank, bool):
        if rank < 1:
            raise ValueError(f"{expected}, got {rank!r}")
        return int(rank)
    if isinstance(rank, (str, bytes)) or not hasattr(rank, "__len__"):
        raise TypeError(f"{expected}, got {rank!r}")
    ranks = list(rank)
    if any(isinstance(r, bool) or not isinstance(r, numbers.Integral) for r in ranks):
        raise TypeError(f"{expected}, got {rank!r}")
    lengths = (lengths,) if isinstance(lengths, int) else lengths
    if len(ranks) not in lengths or any(r < 1 for r in ranks):
        raise ValueError(f"{expected}, got {ranks}")
    return [int(r) for r in ranks]


def check_real(
    value,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite float in the interval from ``low`` to ``high`` (closed by default)."""
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    interval = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
    expected = f"a real number in {interval}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {expected}, got {value!r}")
    value = float(value)
    ok = np.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return value


def check_choice(value, name: str, choices: Iterable[str]) -> str:
    """``value`` as one of the strings ``choices``."""
    choices = list(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {choices}, got {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def as_float_array(x, name: str, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Validate ``x`` as a finite real float array (numpy, float64 unless float32 given)."""
    if x is None or isinstance(x, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be an array-like of real numbers, got {type(x).__name__}")
    arr = real_float_array(x, name)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must be {want}-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


def check_tensor(x, name: str = "tensor", min_ndim: int = 0, check_finite: bool = True):
    """A tensor of the current backend holding reals, of order >= ``min_ndim``.

    Converted by the one rule for foreign inputs (:func:`tensorexpr._backend.to_backend`,
    docs/backends.md): float32 stays float32, every other real dtype becomes float64; a tensor
    of another backend or an array-like is converted. ``check_finite=False`` leaves the NaN /
    inf check to a caller that computes the norm anyway (one pass less over a large tensor).
    """
    if x is None or isinstance(x, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be a tensor or an array-like, got {type(x).__name__}")
    x = to_backend(x, name)
    if check_finite and not all_finite(x):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    shape = tuple(tl.shape(x))
    if len(shape) < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} modes, got shape {shape}")
    if min_ndim and min(shape) < 1:
        raise ValueError(f"{name} must not be empty, got shape {shape}")
    return x


def check_random_state(random_state) -> np.random.Generator:
    """A numpy Generator from None, an int >= 0, a Generator or a RandomState."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            "random_state must be None, an int >= 0, a numpy Generator or RandomState, "
            f"got {type(random_state).__name__}"
        )
    if random_state < 0:
        raise ValueError(f"random_state must be None or an int >= 0, got {random_state}")
    return np.random.default_rng(int(random_state))


def check_verbose(verbose) -> int:
    """``verbose`` as an int >= 0 (a bool counts as 0 or 1): 0 is silent, 1 prints one line per
    step (rank, sweep or restart) of the algorithm."""
    if not isinstance(verbose, numbers.Integral) or verbose < 0:
        raise TypeError(f"verbose must be an int >= 0 or a bool, got {verbose!r}")
    return int(verbose)


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray:
    """Sample weights as a float64 array of shape (n_samples,): finite, >= 0, positive sum."""
    if sample_weight is None:
        return np.ones(n_samples)
    sw = as_float_array(sample_weight, "sample_weight", ndim=(0, 1)).astype(np.float64)
    if sw.ndim == 0:
        sw = np.full(n_samples, float(sw))
    if sw.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},) like X and y, got {sw.shape}"
        )
    if np.any(sw < 0):
        raise ValueError("sample_weight must be non-negative, got negative weights")
    if sw.sum() <= 0:
        raise ValueError("sample_weight must have a positive sum, got all weights zero")
    return sw


def check_memory_limit(memory_limit) -> int:
    """A positive number of bytes (``memory_limit`` arguments)."""
    if isinstance(memory_limit, bool) or not isinstance(memory_limit, numbers.Real):
        raise TypeError(f"memory_limit must be a positive number of bytes, got {memory_limit!r}")
    if not memory_limit > 0 or memory_limit != memory_limit:
        raise ValueError(f"memory_limit must be a positive number of bytes, got {memory_limit!r}")
    return memory_limit


def machine_memory() -> int:
    """Bytes of physical memory of this machine (2^40 when the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return 2**40


def check_size(
    n_bytes: int, argument: str, what: str, limit: int | None = None, limit_name: str | None = None
) -> None:
    """Refuse, before allocating, ``what`` of ``n_bytes`` that a user's number asks for.

    Parameters
    ----------
    n_bytes : int
        Bytes the allocation needs, computed with Python ints (no overflow).
    argument : str
        The argument that sets the size, with its value: ``"rank=100000000"``.
    what : str
        What would be allocated: ``"the cores of this TTNetwork"``.
    limit : int, optional
        Bytes allowed; default the physical memory of this machine (:func:`machine_memory`):
        an allocation beyond it can only fail, after a long time swapping.
    limit_name : str, optional
        What ``limit`` is, for the message (default ``"memory_limit"``).

    Raises
    ------
    ValueError
        ``"rank=100000000: the cores of this TTNetwork need 213.2 PiB, more than the 125.7 GiB
        of memory of this machine"``.
    """
    if limit is None:
        limit, against = machine_memory(), "of memory of this machine"
    else:
        against = f"allowed ({limit_name or 'memory_limit'})"
    if n_bytes > limit:
        raise ValueError(
            f"{argument}: {what} would need {format_bytes(n_bytes)}, more than the "
            f"{format_bytes(limit)} {against}; use a smaller "
            + " or ".join(re.findall(r"([-\w\[\]]+)=", argument) or [argument])
        )


def callable_name(fn) -> str:
    """How a message names a user's callable: its qualified name, else its type."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return str(name) if name else type(fn).__name__


def check_callable_output(out, name: str, shape: tuple[int, ...] | None = None, finite=True):
    """The output of a user's callable, checked once where it enters: an array or tensor of
    real numbers, of ``shape`` when given, finite when ``finite``.

    Returns the output as it came when it is a tensor of the current backend, else as a
    float64 numpy array. ``name`` says which callable (``"fn 'my_score'"``) in the message.
    """
    if tl.is_tensor(out) and not isinstance(out, (str, bytes)):
        dtype = str(tl.context(out)["dtype"])
        got = tuple(tl.shape(out))
        if "complex" in dtype:
            raise TypeError(
                f"{name} must return real values, got dtype {dtype}; pass the real part or the "
                "modulus explicitly"
            )
        if "float" not in dtype and "int" not in dtype:
            raise TypeError(f"{name} must return real numbers, got dtype {dtype}")
    else:
        try:
            arr = to_numpy(out, "output")
        except Exception as err:
            raise TypeError(
                f"{name} must return an array of real numbers, got {type(out).__name__} ({err})"
            ) from None
        if np.iscomplexobj(arr):
            raise TypeError(
                f"{name} must return real values, got dtype {arr.dtype}; pass the real part or "
                "the modulus explicitly"
            )
        if arr.dtype == object or not (
            np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
        ):
            raise TypeError(
                f"{name} must return an array of real numbers, got {type(out).__name__} of "
                f"dtype {arr.dtype}"
            )
        out, got = arr.astype(np.float64), arr.shape
    if shape is not None and got != tuple(shape):
        raise ValueError(f"{name} must return shape {tuple(shape)}, got {got}")
    if finite and not all_finite(out if tl.is_tensor(out) else tl.tensor(out)):
        raise ValueError(f"{name} returned NaN or inf")
    return out


#: The most axes a dense array has on numpy (``numpy.ndarray``'s limit since numpy 2.0).
MAX_DENSE_ORDER = 64


def check_dense_order(n_axes: int, argument: str, what: str) -> None:
    """Refuse a dense tensor with more axes than numpy supports, naming the argument."""
    if n_axes > MAX_DENSE_ORDER:
        raise ValueError(
            f"{argument}: {what} would have {n_axes} axes, one per position; a dense tensor "
            f"has at most {MAX_DENSE_ORDER} (numpy's limit); use a structured route "
            "(structured=True, tensorexpr.tt_cross, method='submatrix') or a smaller d"
        )
