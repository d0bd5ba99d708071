"""[K19] Figure 3: how often a random generalized ReLU RNN has a rank-1 shallow equivalent.

For random relu_max RNNs (TT-networks, one-hot templates) of rank R, the certified lower bound
``ceil(rank(Gamma_odd,even) / (M d / 2))`` on the width of an equivalent generalized shallow
network is computed; its histogram per R, and the fraction of networks where the bound is 1,
are reported. A bound of 1 does not prove a rank-1 equivalent exists, but a bound > 1 proves
none does: the fraction at 1 is an upper estimate of how often rank-1 equivalents exist
(docs/theory.md section 5.6).

[K19] does not state how its random networks are drawn, so the sampling distribution is a
parameter: every core entry is ``z / sqrt(r_{t-1} L)`` and every entry of an input matrix
``C_t`` is ``z / sqrt(M)``, with z drawn from one of :data:`DISTRIBUTIONS`; the networks have
input matrices ``C_t`` (``hidden_size = M``) or none (``C_t = I``). By default every
combination is run and each is checked against the paper's statement: a nonzero fraction at
bound 1 for every R, falling as R grows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..analysis.expressivity import shallow_width_lower_bound
from ..features import LinearFeatures
from ..grid import DEFAULT_MEMORY_LIMIT
from ..networks import TTNetwork
from ._base import (
    Experiment,
    ExperimentResult,
    integer_ticks,
    new_figure,
    no_progress,
    run_cases,
    save_figure,
)

__all__ = ["run", "plot", "random_relu_rnn", "verdicts_of", "conclusion", "DISTRIBUTIONS", "FIG3"]

#: The distributions of z (before the 1 / sqrt(fan-in) scaling).
DISTRIBUTIONS = {
    "gaussian": lambda rng, shape: rng.standard_normal(shape),
    "uniform01": lambda rng, shape: rng.uniform(0.0, 1.0, shape),
    "uniform11": lambda rng, shape: rng.uniform(-1.0, 1.0, shape),
    "halfnormal": lambda rng, shape: np.abs(rng.standard_normal(shape)),
}


def random_relu_rnn(
    d: int, M: int, R: int, distribution: str = "gaussian", input_matrices: bool = True, rng=None
) -> TTNetwork:
    """A random generalized ReLU RNN (xi = relu_max) on M one-hot templates.

    Parameters
    ----------
    d, M, R : int
        Length, number of templates (= features, identity feature map) and TT-rank.
    distribution : str
        A key of :data:`DISTRIBUTIONS`.
    input_matrices : bool
        Draw input matrices ``C_t`` of shape (M, M) (the generalized RNN of [K19]) or use
        ``C_t = I``.
    rng : numpy Generator, optional

    Returns
    -------
    TTNetwork

    Examples
    --------
    >>> from tensorexpr.experiments.fig3 import random_relu_rnn
    >>> net = random_relu_rnn(4, 3, 2, "uniform01", rng=None)
    >>> net.ranks, net.xi.name, bool((net.cores[1] >= 0).all())
    ((1, 2, 2, 2, 1), 'relu_max', True)
    """
    if distribution not in DISTRIBUTIONS:
        raise ValueError(
            f"distribution must be one of {sorted(DISTRIBUTIONS)}, got {distribution!r}"
        )
    rng = np.random.default_rng(rng)
    draw = DISTRIBUTIONS[distribution]
    ranks = [1] + [R] * (d - 1) + [1]
    cores = [draw(rng, (ranks[t], M, ranks[t + 1])) / np.sqrt(ranks[t] * M) for t in range(d)]
    matrices = [draw(rng, (M, M)) / np.sqrt(M) for _ in range(d)] if input_matrices else None
    return TTNetwork(cores, LinearFeatures.identity(M), xi="relu_max", matrices=matrices)


def _one_network(M, d, R, sample, distribution, input_matrices, seed, method, memory_limit, size):
    rng = np.random.default_rng([seed, R, sample, sorted(DISTRIBUTIONS).index(distribution)])
    net = random_relu_rnn(d, M, R, distribution, input_matrices, rng)
    options = {} if method == "dense" else {"max_size": size}
    found = shallow_width_lower_bound(
        net,
        templates=np.eye(M),
        method=method,
        memory_limit=memory_limit,
        random_state=rng,
        **options,
    )
    return {
        "distribution": distribution,
        "input_matrices": input_matrices,
        "M": M,
        "d": d,
        "R": R,
        "sample": sample,
        "bound": found.bound,
        "rank": found.rank,
        "method": found.method,
        "gap": found.gap,
        "atol": found.atol,
    }


def run(
    quick: bool = False,
    seed: int = 0,
    progress=no_progress,
    n_samples: int | None = None,
    M: int | None = None,
    d: int | None = None,
    ranks=(1, 2, 4, 8),
    distributions=tuple(DISTRIBUTIONS),
    input_matrices=(True, False),
    method: str = "auto",
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    max_size: int = 150,
    n_jobs: int | None = 1,
) -> ExperimentResult:
    """Histogram data of the shallow-width lower bound of random relu_max RNNs.

    Parameters
    ----------
    quick : bool
        M = 4, d = 4, 25 networks per R and variant (seconds); otherwise the paper's
        M = 10, d = 6 with 100 networks per R and variant.
    seed : int
        Base seed.
    progress : callable
        Wraps the loop (``tqdm``-like).
    n_samples, M, d : int, optional
        Override the settings (``M = 10, d = 10`` goes through the submatrix certificate:
        the dense matricization would not fit ``memory_limit``).
    ranks : sequence of int
        The ranks R.
    distributions : sequence of str
        Keys of :data:`DISTRIBUTIONS`.
    input_matrices : sequence of bool
        With (True) and / or without (False) input matrices C_t.
    method : {"auto", "dense", "submatrix"}
        Passed to :func:`tensorexpr.shallow_width_lower_bound`.
    memory_limit : int
        Bytes; ``method="auto"`` picks the submatrix certificate beyond it.
    max_size : int, default 150
        Rows and columns of the submatrix (pivoted: docs/theory.md 4.4). A certified rank
        above ``M d / 2`` already excludes width 1, which is what the figure counts; a
        submatrix bound of 1 is weaker evidence than a dense one (it can only be lower).
    n_jobs : int or None
        joblib workers over the networks (1: in process; -1: all cores; a Dask cluster under
        ``joblib.parallel_config(backend="dask")``).

    Returns
    -------
    ExperimentResult
    """
    M = M or (4 if quick else 10)
    d = d or (4 if quick else 6)
    n_samples = n_samples or (25 if quick else 100)
    for name in distributions:
        if name not in DISTRIBUTIONS:
            raise ValueError(f"distributions must hold {sorted(DISTRIBUTIONS)}, got {name!r}")
    variants = [(dist, bool(c)) for dist in distributions for c in input_matrices]  # run order
    cases = [
        (M, d, R, s, dist, c, seed, method, memory_limit, max_size)
        for dist, c in variants
        for R in ranks
        for s in range(n_samples)
    ]
    rows = run_cases(_one_network, cases, n_jobs=n_jobs, progress=progress, desc="fig3")
    verdicts = verdicts_of(rows)
    summary = {
        "figure": "[K19] Fig. 3: shallow-width lower bound of random generalized ReLU RNNs",
        "settings": {
            "M": M,
            "d": d,
            "R": list(ranks),
            "samples_per_R": n_samples,
            "base_seed": seed,
            "method": method,
            "networks": "random_relu_rnn: cores z / sqrt(r L), C_t z / sqrt(M), one-hot templates",
        },
        "conclusion": conclusion(verdicts),
        "variants": verdicts,
        "reproducing_variants": [
            v for v, verdict in verdicts.items() if verdict["reproduces_paper"]
        ],
        "fraction_falls_with_R": all(v["fraction_falls_with_R"] for v in verdicts.values()),
    }
    return ExperimentResult("fig3", rows, summary)


def verdicts_of(rows: list[dict]) -> dict:
    """Per sampling variant: the fraction of networks with bound 1 and the mean bound per R,
    and whether they match [K19]'s statement: a nonzero fraction for every R
    (``rank1_for_every_R``), never rising with R and lower at the largest R than at the
    smallest (``fraction_falls_with_R``); ``reproduces_paper`` needs both."""
    ranks = sorted({row["R"] for row in rows})
    variants = list(dict.fromkeys((row["distribution"], row["input_matrices"]) for row in rows))
    verdicts = {}
    for dist, c in variants:
        sub = [row for row in rows if row["distribution"] == dist and row["input_matrices"] == c]
        fraction = {
            R: float(np.mean([row["bound"] == 1 for row in sub if row["R"] == R])) for R in ranks
        }
        steps = zip(ranks, ranks[1:], strict=False)
        falls = all(fraction[a] >= fraction[b] for a, b in steps)
        falls = falls and fraction[ranks[0]] > fraction[ranks[-1]]
        every = all(f > 0 for f in fraction.values())
        verdicts[_variant(dist, c)] = {
            "fraction_bound_1": {str(R): f for R, f in fraction.items()},
            "mean_bound": {
                str(R): float(np.mean([row["bound"] for row in sub if row["R"] == R]))
                for R in ranks
            },
            "rank1_for_every_R": every,
            "fraction_falls_with_R": falls,
            "reproduces_paper": every and falls,
        }
    return verdicts


def conclusion(verdicts: dict) -> str:
    """The verdicts of :func:`verdicts_of` in sentences (the summary's ``conclusion``)."""
    n = len(verdicts)
    both = [v for v, x in verdicts.items() if x["reproduces_paper"]]
    every = [
        v for v, x in verdicts.items() if x["rank1_for_every_R"] and not x["fraction_falls_with_R"]
    ]
    falls = [
        v for v, x in verdicts.items() if x["fraction_falls_with_R"] and not x["rank1_for_every_R"]
    ]
    neither = [v for v in verdicts if v not in both + every + falls]
    text = [
        "[K19] states that a random ReLU RNN has a rank-1 shallow equivalent for every R, "
        "and less often as R grows; a certified bound of 1 is necessary for one."
    ]
    if both:
        text.append(f"{len(both)} of the {n} sampling variants reproduce both: {'; '.join(both)}.")
    else:
        text.append(f"None of the {n} sampling variants reproduces both.")
    if every:
        text.append(
            f"Bound 1 occurs at every R, but not less often as R grows, for {len(every)}: "
            f"{'; '.join(every)}."
        )
    if falls:
        text.append(
            f"Bound 1 gets rarer as R grows, but no network has it at some R, for "
            f"{len(falls)}: {'; '.join(falls)}."
        )
    if neither:
        text.append(f"Neither holds for {len(neither)}: {'; '.join(neither)}.")
    text.append("docs/expressivity.md (fig3) discusses the sampling distributions.")
    return " ".join(text)


def _variant(distribution: str, input_matrices: bool) -> str:
    return f"{distribution}, {'with' if input_matrices else 'without'} C_t"


def plot(result: ExperimentResult, path: str | Path) -> None:
    """Left: fraction of networks with bound 1 against R, one line per sampling variant;
    right: the mean bound. One shared legend."""
    fig, axes = new_figure(1, 2, figsize=(7.5, 4.8), squeeze=False)
    frac_ax, mean_ax = axes[0]
    variants = result.summary["variants"]
    styles = ["o-", "s-", "^-", "v-", "o--", "s--", "^--", "v--"]
    for k, (name, verdict) in enumerate(variants.items()):
        ranks = [int(R) for R in verdict["fraction_bound_1"]]
        mark = " (reproduces)" if verdict["reproduces_paper"] else ""
        style = styles[k % len(styles)]
        frac_ax.plot(ranks, list(verdict["fraction_bound_1"].values()), style, label=name + mark)
        mean_ax.plot(ranks, list(verdict["mean_bound"].values()), style)
    for ax in (frac_ax, mean_ax):
        ax.set_xscale("log", base=2)
        ax.set_xticks(ranks, [str(R) for R in ranks])
        ax.set_xlabel("TT-rank R of the ReLU RNN")
    frac_ax.set_ylabel("fraction with certified bound 1")
    frac_ax.set_ylim(-0.03, 1.03)
    mean_ax.set_ylabel("mean certified width bound")
    integer_ticks(mean_ax, "y")
    settings = result.summary["settings"]
    frac_ax.set_title("may have a rank-1 shallow equivalent")
    mean_ax.set_title("lower bound on the shallow width")
    fig.suptitle(
        f"[K19] Fig. 3: random ReLU RNNs, M = {settings['M']}, d = {settings['d']}, "
        f"{settings['samples_per_R']} networks per R and sampling variant"
    )
    fig.legend(*frac_ax.get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=9)
    save_figure(fig, path, rect=(0, 0.22, 1, 1))


FIG3 = Experiment(
    name="fig3",
    description="[K19] Fig. 3: shallow-width lower bound of random ReLU RNNs, per sampling "
    "distribution",
    run=run,
    plot=plot,
)
