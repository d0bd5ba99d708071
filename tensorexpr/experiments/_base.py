"""What every reproduced result is: a function returning data, and a plot of it."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..files import atomic_write

__all__ = [
    "Experiment",
    "ExperimentResult",
    "no_progress",
    "new_figure",
    "save_figure",
    "run_cases",
    "integer_ticks",
    "log_integer_axis",
]


def no_progress(iterable: Iterable, total: int | None = None, desc: str | None = None):
    """The default progress callback: the iterable unchanged."""
    return iterable


def run_cases(
    fn: Callable, cases: list, n_jobs: int | None = 1, progress=no_progress, desc=None
) -> list:
    """``[fn(*case) for case in cases]``, through joblib when ``n_jobs != 1``.

    joblib runs the cases in worker processes (``n_jobs=-1``: all cores); under
    ``joblib.parallel_config(backend="dask")`` with a ``distributed.Client`` they run on
    that Dask cluster, a LocalCluster or a real one, without any change here. Results keep
    the order of ``cases``; ``progress`` sees them as they arrive.
    """
    if n_jobs is None or n_jobs == 1:
        return [fn(*case) for case in progress(cases, total=len(cases), desc=desc)]
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a nonzero int or None, got {n_jobs!r}")
    from joblib import Parallel, delayed

    results = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(fn)(*c) for c in cases)
    return list(progress(results, total=len(cases), desc=desc))


def integer_ticks(ax, axis: str = "both") -> None:
    """Ticks at integers only (ranks, widths and counts are integers)."""
    from matplotlib.ticker import MaxNLocator

    if axis in ("x", "both"):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if axis in ("y", "both"):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def log_integer_axis(ax, axis: str = "y", base: int = 2) -> None:
    """A log axis whose ticks are plain integers (1, 2, 4, ...), no minor labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    (ax.set_yscale if axis == "y" else ax.set_xscale)("log", base=base)
    target.set_major_locator(LogLocator(base=base))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}" if v >= 1 else f"{v:g}"))
    target.set_minor_formatter(NullFormatter())


def new_figure(nrows: int = 1, ncols: int = 1, figsize=None, **subplot_kw):
    """A matplotlib figure and its axes, like ``plt.subplots`` but without pyplot.

    No global state is touched: plotting never switches the user's matplotlib backend
    and never leaves figures open.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **subplot_kw)


#: widest figure (inches); the documentation shows figures at :data:`DISPLAY_PX_PER_IN`
#: (750 px at this width, within its text column: docs/sphinxext/te_docs.py)
PAGE_WIDTH_IN = 7.5
#: smallest font (points) of a saved figure: 12.5 px at the documentation's size
MIN_FONT_PT = 9.0
#: resolution of the saved PNG (sharp on high-density screens) and the size it is shown at
FIGURE_DPI = 150
DISPLAY_PX_PER_IN = 100


def save_figure(fig, path, rect=None) -> None:
    """Readable at page width, then a PNG at :data:`FIGURE_DPI`.

    A figure wider than :data:`PAGE_WIDTH_IN` is shrunk to it (aspect kept); every text
    smaller than :data:`MIN_FONT_PT` is raised to it; titles too long for their axes (the
    figure title, for the figure) are wrapped onto more lines; then a tight layout within
    ``rect`` (room left for a shared legend), written atomically
    (:func:`tensorexpr.files.atomic_write`).
    """
    import textwrap

    from matplotlib.text import Text

    width, height = fig.get_size_inches()
    if width > PAGE_WIDTH_IN:
        fig.set_size_inches(PAGE_WIDTH_IN, height * PAGE_WIDTH_IN / width)
    for text in fig.findobj(Text):
        if text.get_fontsize() < MIN_FONT_PT:
            text.set_fontsize(MIN_FONT_PT)

    def wrap(text, inches: float) -> None:
        chars = max(int(inches * 72 / (0.55 * text.get_fontsize())), 12)
        if text.get_text() and len(text.get_text()) > chars:
            text.set_text(textwrap.fill(text.get_text(), chars))

    if getattr(fig, "_suptitle", None) is not None:
        wrap(fig._suptitle, fig.get_size_inches()[0] * 0.95)
    for ax in fig.axes:
        axis_inches = ax.get_position().width * fig.get_size_inches()[0]
        wrap(ax.title, axis_inches * 1.1)
    fig.tight_layout(rect=rect)
    with atomic_write(path) as fh:
        fig.savefig(fh, dpi=FIGURE_DPI, format="png")


@dataclass
class ExperimentResult:
    """Data of one run: a table (one dict per row) and a JSON-able summary.

    Attributes
    ----------
    name : str
        Experiment name (``tensorexpr list``).
    rows : list of dict
        The table, written as ``NAME.csv``.
    summary : dict
        Settings and conclusions, written as ``NAME.json``.
    """

    name: str
    rows: list[dict]
    summary: dict = field(default_factory=dict)

    def column(self, key: str) -> list:
        return [row[key] for row in self.rows]

    def save(self, out_dir: str | Path) -> list[Path]:
        """Write ``NAME.csv`` and ``NAME.json`` into ``out_dir``; returns the paths.

        Each file is replaced atomically (:func:`tensorexpr.files.atomic_write`): a write
        that fails leaves the previous file unchanged.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        csv_path, json_path = out / f"{self.name}.csv", out / f"{self.name}.json"
        keys: list[str] = []
        for row in self.rows:
            keys += [k for k in row if k not in keys]
        with atomic_write(csv_path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=keys)
            writer.writeheader()
            writer.writerows(self.rows)
        with atomic_write(json_path, "w") as fh:
            json.dump(
                {"name": self.name, "summary": self.summary, "rows": self.rows},
                fh,
                indent=2,
                default=_jsonable,
            )
        return [csv_path, json_path]


def _jsonable(value):
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:  # pragma: no cover
        pass
    return str(value)


@dataclass(frozen=True)
class Experiment:
    """A reproducible result of docs/theory.md section 5.

    Attributes
    ----------
    name : str
        Name on the command line.
    description : str
        One line for ``tensorexpr list``.
    run : callable
        ``run(quick=False, seed=0, progress=no_progress) -> ExperimentResult``.
        ``progress(iterable, total=None, desc=None)`` wraps the main loop.
    plot : callable
        ``plot(result, path)`` writes a PNG figure of the result.
    """

    name: str
    description: str
    run: Callable[..., ExperimentResult]
    plot: Callable[[ExperimentResult, Path], None]
