"""One module per reproduced result of docs/theory.md section 5.

Each experiment is an :class:`Experiment`: ``run(quick, seed, progress)`` returns an
:class:`ExperimentResult` (a table and a summary) and ``plot(result, path)`` draws
it. Experiments living outside this package (the estimators' ``training``)
register under the entry-point group ``tensorexpr.experiments``.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from ._base import Experiment, ExperimentResult, no_progress, save_figure
from .fig3 import FIG3
from .table2 import TABLE2
from .theorem1 import THEOREM1
from .theorem5_2 import THEOREM5_2
from .theorem5_3 import THEOREM5_3
from .universality import UNIVERSALITY

__all__ = [
    "Experiment",
    "ExperimentResult",
    "no_progress",
    "save_figure",
    "get_experiment",
    "list_experiments",
]

_BUILTIN = [THEOREM1, TABLE2, UNIVERSALITY, THEOREM5_2, THEOREM5_3, FIG3]


def list_experiments() -> dict[str, Experiment | object]:
    """Experiments by name: the built-in ones, then entry points (loaded lazily)."""
    found: dict = {exp.name: exp for exp in _BUILTIN}
    for ep in entry_points(group="tensorexpr.experiments"):
        found.setdefault(ep.name, ep)
    return found


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name`` (``tensorexpr list`` shows them)."""
    found = list_experiments()
    if name not in found:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(sorted(found))}")
    exp = found[name]
    if not isinstance(exp, Experiment):
        exp = exp.load()
        if not isinstance(exp, Experiment):
            raise TypeError(f"entry point {name!r} did not give an Experiment")
    return exp
