"""Writing files so that nothing is lost: a file is replaced whole or not at all.

Every file tensorexpr writes (networks, certificates, experiment tables and figures) goes
through :func:`atomic_write`: the new content is written to a temporary file in the same
folder, flushed to disk (``fsync``), and renamed over the target (``os.replace``, atomic on
POSIX and Windows). A write that fails part-way (disk full, a quota, an interrupt, an
exception while producing the content) leaves the old file as it was and removes the
temporary file (docs/errors.md).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_write"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", **open_options) -> Iterator[IO]:
    """Open a temporary file that replaces ``path`` when the ``with`` block succeeds.

    Parameters
    ----------
    path : str or PathLike
        The file to write; its folder must exist.
    mode : {"wb", "w"}, default "wb"
        Binary or text.
    **open_options
        Passed to :func:`open` (``encoding``, ``newline``) for text mode.

    Yields
    ------
    file object
        Write the whole content to it; the target is replaced only after the block ends
        without an exception (a ``KeyboardInterrupt`` included), the data is on disk and the
        file is closed.

    Examples
    --------
    >>> import os, tempfile
    >>> from tensorexpr.files import atomic_write
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> with atomic_write(path, "w") as fh:
    ...     _ = fh.write("kept")
    >>> try:
    ...     with atomic_write(path, "w") as fh:
    ...         _ = fh.write("half")
    ...         raise RuntimeError("failed part-way")
    ... except RuntimeError:
    ...     pass
    >>> open(path).read(), sorted(os.listdir(os.path.dirname(path)))
    ('kept', ['notes.txt'])
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise OSError(f"cannot write {str(target)!r}: the folder {str(folder)!r} does not exist")
    tmp = None
    try:  # an interrupt right after mkstemp still removes the temporary file
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, mode, **open_options) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _keep_mode(target, tmp)
        os.replace(tmp, target)
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    _sync_folder(folder)


def _keep_mode(target: Path, tmp: str) -> None:
    """The replaced file keeps its permissions; a new one gets the umask's (not mkstemp's 0600)."""
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


def _sync_folder(folder: Path) -> None:
    """fsync the folder so that the rename itself survives a crash (POSIX; a no-op elsewhere)."""
    if os.name != "posix":  # pragma: no cover - Windows has no directory file descriptors
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
