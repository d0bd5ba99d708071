"""[K18] Table 2: the width a network of one kind needs to equal a random one of another.

For random product networks (coefficient tensors W of order d, mode size m) of each kind
(TT, HT, CP) and width r, the widths of the other kinds are measured and set next to
:func:`tensorexpr.width_conversion_bounds`: the TT width is the largest TT-SVD rank of W, the
HT width the largest HSVD rank (both with a small relative tolerance), the CP width is bounded
below by the odd/even matricization rank. The exact TT <-> HT conversions
(:func:`tensorexpr.tt_to_ht`, :func:`tensorexpr.ht_to_tt`) on the structured tensors give the
same widths without any dense work.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..analysis.expressivity import matricization_rank, width_conversion_bounds
from ..decomposition import ht_svd, ht_to_tt, tt_svd, tt_to_ht
from ..features import LinearFeatures
from ..networks import CPNetwork, HTNetwork, TTNetwork
from ._base import Experiment, ExperimentResult, new_figure, no_progress, save_figure

__all__ = ["run", "plot", "TABLE2"]

_NETWORKS = {"tt": TTNetwork, "ht": HTNetwork, "cp": CPNetwork}
#: Relative tolerance of the TT-SVD / HSVD ranks (generic ranks have gaps of many decades).
_TOL = 1e-10


def _max_rank(ranks) -> int:
    return int(max(ranks))


def run(quick: bool = False, seed: int = 0, progress=no_progress) -> ExperimentResult:
    """Measured widths next to the conversion table, one row per (given kind, d, m, r, seed).

    Parameters
    ----------
    quick : bool
        d in 4, 8, m = 2, r in 2, 3, one seed (seconds); otherwise m in 2, 3, r in 2, 3, 4,
        three seeds.
    seed : int
        Base seed.
    progress : callable
        Wraps the loop (``tqdm``-like).

    Returns
    -------
    ExperimentResult
    """
    ds = (4, 8)
    ms, rs, n_seeds = ((2,), (2, 3), 1) if quick else ((2, 3), (2, 3, 4), 3)
    cases = [
        (g, d, m, r, s)
        for g in ("tt", "ht", "cp")
        for d in ds
        for m in ms
        for r in rs
        for s in range(n_seeds)
    ]
    rows = []
    for given, d, m, r, s in progress(cases, total=len(cases), desc="table2"):
        rng = np.random.default_rng([seed, ("tt", "ht", "cp").index(given), d, m, r, s])
        fmap = LinearFeatures.identity(m)
        net = _NETWORKS[given].random(d, fmap, rank=r, random_state=rng)
        W = np.asarray(net.coefficient_tensor())
        tt_width = _max_rank(tt_svd(W, tol=_TOL).rank)
        ht = ht_svd(W, tol=_TOL)
        ht_width = _max_rank(ht.ranks[:-1])
        cp_lower = matricization_rank(W, "odd")
        structured = net.grid_tensor(np.eye(m), structured=True)
        if given == "tt":
            converted = _max_rank(tt_to_ht(structured, tol=_TOL).ranks[:-1])
        elif given == "ht":
            converted = _max_rank(ht_to_tt(structured, tol=_TOL).rank)
        else:
            converted = None
        table = width_conversion_bounds(r, d)
        cap = m ** (d // 2)  # no TT / HT rank and no odd/even rank exceeds m^(d/2)
        q = min(m, r)
        row = {
            "given": given,
            "d": d,
            "m": m,
            "r": r,
            "seed": s,
            "tt_width": tt_width,
            "tt_table": table["tt"][given].value,
            "tt_upper": table["tt"][given].upper,
            "ht_width": ht_width,
            "ht_table": table["ht"][given].value,
            "ht_upper": table["ht"][given].upper,
            "cp_lower": cp_lower.rank,
            "cp_table": table["cp"][given].value,
            "cp_gap": cp_lower.gap,
            "cap": cap,
            "converted_width": converted,
        }
        # certified checks: sufficient widths are never exceeded; lower bounds hold
        row["tt_within_upper"] = tt_width <= min(row["tt_upper"], cap)
        row["ht_within_upper"] = ht_width <= min(row["ht_upper"], cap)
        if given == "cp":
            row["cp_consistent"] = cp_lower.rank <= r
        else:
            row["cp_consistent"] = cp_lower.rank >= min(q ** (d // 2), cap)
        row["conversion_agrees"] = converted is None or converted == (
            ht_width if given == "tt" else tt_width
        )
        rows.append(row)
    checks = ("tt_within_upper", "ht_within_upper", "cp_consistent", "conversion_agrees")
    summary = {
        "table": "[K18] Table 2: width needed (rows) to equal a network of width r (columns)",
        "settings": {
            "d": list(ds),
            "m": list(ms),
            "r": list(rs),
            "seeds": n_seeds,
            "base_seed": seed,
            "rank_tol": _TOL,
            "networks": "random product networks, LinearFeatures.identity(m)",
        },
        **{f"{c}_everywhere": all(row[c] for row in rows) for c in checks},
        "ht_to_tt_exceeds_r^(log2(d)/2)": any(
            row["given"] == "ht" and row["tt_width"] > row["tt_table"] for row in rows
        ),
    }
    return ExperimentResult("table2", rows, summary)


def plot(result: ExperimentResult, path: str | Path) -> None:
    """Measured width vs the table value, one panel per needed kind."""
    fig, grid = new_figure(2, 2, figsize=(7.5, 6.4))  # three panels, the legend in the fourth
    axes, legend_ax = list(grid.ravel()[:3]), grid[1][1]
    markers = {"tt": "o", "ht": "s", "cp": "^"}
    for ax, (needed, measured) in zip(
        axes, (("tt", "tt_width"), ("ht", "ht_width"), ("cp", "cp_lower")), strict=True
    ):
        for given in ("tt", "ht", "cp"):
            sub = [row for row in result.rows if row["given"] == given]
            ax.plot(
                [min(row[f"{needed}_table"], row["cap"]) for row in sub],
                [row[measured] for row in sub],
                markers[given],
                mfc="none",
                label=f"given {given.upper()}",
            )
        top = max(max(row[measured], row["cap"]) for row in result.rows)
        ax.plot([1, top], [1, top], "k:", lw=0.8, label="measured = table")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)
        ticks = [2**k for k in range(int(np.log2(top)) + 1)]
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.set_yticks(ticks, [str(t) for t in ticks])
        ax.set_xlabel("table value (capped at m^(d/2))")
        ax.set_ylabel("measured" + (" (lower bound)" if needed == "cp" else ""))
        ax.set_title(f"{needed.upper()} width needed")
    handles, labels = axes[0].get_legend_handles_labels()
    legend_ax.axis("off")
    legend_ax.legend(handles, labels, loc="center", fontsize=10, title="random network")
    fig.suptitle(
        "[K18] Table 2: width a network of each kind needs to equal a random network of "
        "width r (markers: the given kind)"
    )
    save_figure(fig, path)


TABLE2 = Experiment(
    name="table2",
    description="[K18] Table 2: TT / HT / CP widths of random networks next to the "
    "conversion bounds",
    run=run,
    plot=plot,
)
