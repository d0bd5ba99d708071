"""A bounded cache of compiled TensorFlow functions and the variables they update.

A ``tf.function`` is traced once per network shape; keeping it lets repeated fits of the same
shape (cross-validation, warm starts, restarts) skip the trace. The cache holds at most
:data:`MAX_ENTRIES` entries and drops the least recently used one beyond that, so a long
hyper-parameter search over many shapes does not grow memory without bound.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

__all__ = ["MAX_ENTRIES", "cached", "clear_cache", "cache_size"]

#: Most compiled functions kept at once.
MAX_ENTRIES = 32

_ENTRIES: OrderedDict = OrderedDict()


def cached(key: Hashable, build: Callable):
    """The entry for ``key``, built by ``build()`` on a miss (least recently used dropped)."""
    if key in _ENTRIES:
        _ENTRIES.move_to_end(key)
        return _ENTRIES[key]
    value = build()
    _ENTRIES[key] = value
    while len(_ENTRIES) > MAX_ENTRIES:
        _ENTRIES.popitem(last=False)
    return value


def clear_cache() -> None:
    """Drop every compiled function (they are rebuilt on demand)."""
    _ENTRIES.clear()


def cache_size() -> int:
    """Number of entries held now."""
    return len(_ENTRIES)
