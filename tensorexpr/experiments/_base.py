"""What every reproduced result is: a function returning data, and a plot of it."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Experiment", "ExperimentResult", "no_progress", "new_figure", "save_figure"]


def no_progress(iterable: Iterable, total: int | None = None, desc: str | None = None):
    """The default progress callback: the iterable unchanged."""
    return iterable


def new_figure(nrows: int = 1, ncols: int = 1, figsize=None, **subplot_kw):
    """A matplotlib figure and its axes, like ``plt.subplots`` but without pyplot.

    No global state is touched: plotting never switches the user's matplotlib backend
    and never leaves figures open.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **subplot_kw)


def save_figure(fig, path) -> None:
    """Tight layout, then a PNG at 120 dpi."""
    fig.tight_layout()
    fig.savefig(path, dpi=120)


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
        """Write ``NAME.csv`` and ``NAME.json`` into ``out_dir``; returns the paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        csv_path, json_path = out / f"{self.name}.csv", out / f"{self.name}.json"
        keys: list[str] = []
        for row in self.rows:
            keys += [k for k in row if k not in keys]
        with csv_path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=keys)
            writer.writeheader()
            writer.writerows(self.rows)
        with json_path.open("w") as fh:
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
