"""[K19] Figure 3: how often a random generalized ReLU RNN has a rank-1 shallow equivalent.

For random relu_max RNNs (TT-networks with input matrices C_t, one-hot templates) of rank R,
the certified lower bound ``ceil(rank(Gamma_odd,even) / (M d / 2))`` on the width of an
equivalent generalized shallow network is computed; its histogram per R, and the fraction of
networks where the bound is 1, are reported. A bound of 1 does not prove a rank-1 equivalent
exists, but a bound > 1 proves none does: the fraction at 1 is an upper estimate of how often
rank-1 equivalents exist, and it falls as R grows (docs/theory.md section 5.6).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..expressivity import shallow_width_lower_bound
from ..features import LinearFeatures
from ..networks import TTNetwork
from ._base import Experiment, ExperimentResult, new_figure, no_progress, save_figure

__all__ = ["run", "plot", "FIG3"]


def run(
    quick: bool = False,
    seed: int = 0,
    progress=no_progress,
    n_samples: int | None = None,
    M: int | None = None,
    d: int | None = None,
    ranks=(1, 2, 4, 8),
) -> ExperimentResult:
    """Histogram data of the shallow-width lower bound of random relu_max RNNs.

    Parameters
    ----------
    quick : bool
        M = 4, d = 4, 100 networks per R (a second); otherwise the paper's M = 10, d = 6 with
        100 networks per R (about 5 s each on one core).
    seed : int
        Base seed.
    progress : callable
        Wraps the loop (``tqdm``-like).
    n_samples, M, d : int, optional
        Override the settings.
    ranks : sequence of int
        The ranks R.

    Returns
    -------
    ExperimentResult
    """
    M = M or (4 if quick else 10)
    d = d or (4 if quick else 6)
    n_samples = n_samples or (100 if quick else 100)
    templates = np.eye(M)
    cases = [(R, s) for R in ranks for s in range(n_samples)]
    rows = []
    for R, s in progress(cases, total=len(cases), desc="fig3"):
        net = TTNetwork.random(
            d,
            LinearFeatures.identity(M),
            rank=R,
            xi="relu_max",
            hidden_size=M,
            random_state=np.random.default_rng([seed, R, s]),
        )
        found = shallow_width_lower_bound(net, templates=templates)
        rows.append(
            {
                "M": M,
                "d": d,
                "R": R,
                "sample": s,
                "bound": found.bound,
                "rank": found.rank,
                "gap": found.gap,
                "tol": found.tol,
            }
        )
    fraction = {
        R: float(np.mean([row["bound"] == 1 for row in rows if row["R"] == R])) for R in ranks
    }
    summary = {
        "figure": "[K19] Fig. 3: shallow-width lower bound of random generalized ReLU RNNs",
        "settings": {
            "M": M,
            "d": d,
            "R": list(ranks),
            "samples_per_R": n_samples,
            "base_seed": seed,
            "networks": "TTNetwork.random(xi='relu_max', hidden_size=M), one-hot templates",
        },
        "fraction_bound_1": {str(R): f for R, f in fraction.items()},
        "fraction_falls_with_R": all(
            fraction[a] >= fraction[b] for a, b in zip(ranks, ranks[1:], strict=False)
        ),
    }
    return ExperimentResult("fig3", rows, summary)


def plot(result: ExperimentResult, path: str | Path) -> None:
    """One histogram of the bound per R, with the fraction at bound 1 in the title."""
    ranks = sorted({row["R"] for row in result.rows})
    fig, axes = new_figure(1, len(ranks), figsize=(3 * len(ranks), 3), squeeze=False, sharey=True)
    top = max(row["bound"] for row in result.rows)
    for ax, R in zip(axes[0], ranks, strict=True):
        bounds = [row["bound"] for row in result.rows if row["R"] == R]
        ax.hist(bounds, bins=np.arange(0.5, top + 1.5), rwidth=0.85)
        ax.set_title(f"R = {R}: {np.mean(np.equal(bounds, 1)):.0%} at 1")
        ax.set_xlabel("shallow width lower bound")
    axes[0][0].set_ylabel("number of networks")
    save_figure(fig, path)


FIG3 = Experiment(
    name="fig3",
    description="[K19] Fig. 3: histograms of the shallow-width lower bound of random ReLU RNNs",
    run=run,
    plot=plot,
)
