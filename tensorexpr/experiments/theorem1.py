"""[K18] Theorem 1: a TT-network of rank r needs a shallow network of width >= min(m, r)^(d/2).

For random TT-networks over a sweep of d and r, the odd/even matricization rank of
the grid tensor (on M = m templates with an invertible feature matrix, so it is the
rank of the coefficient tensor W) is compared with the bound q^(d/2), q = min(m, r);
the explicit witness TT of docs/theory.md section 5.1 (ranks r, 1, r, 1, ...) attains it exactly.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..analysis.expressivity import matricization_rank
from ..features import LinearFeatures
from ..grid import feature_matrix
from ..networks import TTNetwork
from ._base import (
    Experiment,
    ExperimentResult,
    integer_ticks,
    log_integer_axis,
    new_figure,
    no_progress,
    save_figure,
)

__all__ = [
    "run",
    "plot",
    "figure",
    "witness_network",
    "certified_witness",
    "SCALE_TEMPLATES",
    "THEOREM1",
]


def witness_network(d: int, m: int, r: int, feature_map=None) -> TTNetwork:
    """The TT of docs/theory.md section 5.1 with ranks (1, r, 1, r, ..., 1) attaining q^(d/2).

    Each pair of positions (2k-1, 2k) carries ``sum_{a < q} e_a (x) e_a`` (the q x q
    identity, q = min(m, r)); the odd/even matricization is then the Kronecker product
    of d/2 identities of size q, of rank q^(d/2).
    """
    if d % 2:
        raise ValueError(f"d must be even for the theorem 1 witness, got {d}")
    q = min(m, r)
    first = np.zeros((1, m, r))
    second = np.zeros((r, m, 1))
    for a in range(q):
        first[0, a, a] = 1.0
        second[a, a, 0] = 1.0
    feature_map = feature_map or LinearFeatures.identity(m)
    return TTNetwork([first, second] * (d // 2), feature_map)


#: Templates of the certified witness rows: M = 4 points of R^2 (two pivots, e1 and e2).
SCALE_TEMPLATES = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0]]) / np.sqrt(
    [[1.0], [1.0], [2.0], [2.0]]
)


def certified_witness(
    d: int, max_size: int | None = None, random_state=None, method: str = "auto"
) -> dict:
    """The witness (m = r = 2) on :data:`SCALE_TEMPLATES` (a 4^d grid), certified by a
    submatrix (docs/theory.md 4.4; ``method="auto"``: the exact one, rank over GF(p)): one row
    of the table, with the time it took."""
    net = witness_network(d, 2, 2)
    start = time.perf_counter()
    options = {} if max_size is None else {"max_size": max_size}
    found = matricization_rank(
        net, "odd", templates=SCALE_TEMPLATES, method=method, random_state=random_state, **options
    )
    seconds = time.perf_counter() - start
    cert = found.certificate
    bound = 2 ** (d // 2)
    return {
        "d": d,
        "r": 2,
        "m": 2,
        "M": len(SCALE_TEMPLATES),
        "seed": 0,
        "bound": bound,
        "rank_witness": found.rank,
        "method": found.method,
        "submatrix": f"{cert.shape[0]}x{cert.shape[1]}",
        "sigma_min_counted": cert.sigma,
        "margin": cert.margin,
        "seconds": round(seconds, 2),
        "witness_exact": found.rank == bound,
    }


def run(quick: bool = False, seed: int = 0, progress=no_progress) -> ExperimentResult:
    """Sweep d and r; return one row per (d, r, seed) with ranks and the bound, then the
    witness certified by a submatrix beyond dense sizes.

    Parameters
    ----------
    quick : bool
        Small sweep (d in 2, 4, 6; r in 1..4; m = 3; one seed; the certified witness at
        d = 12), seconds. Otherwise d up to 10, r up to 6, three seeds, and the certified
        witness at d = 12, 16, 20, 24 (4^24 grid entries, rank 4096).
    seed : int
        Base seed.
    progress : callable
        Wraps the loop (``tqdm``-like).

    Returns
    -------
    ExperimentResult
    """
    if quick:
        ds, rs, m, n_seeds = (2, 4, 6), (1, 2, 3, 4), 3, 1
    else:
        ds, rs, m, n_seeds = (2, 4, 6, 8, 10), (1, 2, 3, 4, 5, 6), 4, 3
    scale_ds = (12,) if quick else (12, 16, 20, 24)
    cases = [(d, r, s) for d in ds for r in rs for s in range(n_seeds)]
    rows = []
    for d, r, s in progress(cases, total=len(cases), desc="theorem1"):
        rng = np.random.default_rng([seed, d, r, s])
        fmap = LinearFeatures(m, m, random_state=rng)
        templates = rng.standard_normal((m, m))
        F = np.asarray(feature_matrix(fmap, templates))
        net = TTNetwork.random(d, fmap, rank=r, random_state=rng)
        found = matricization_rank(net, "odd", templates=templates)
        witness = matricization_rank(witness_network(d, m, r, fmap), "odd", templates=templates)
        bound = min(m, r) ** (d // 2)
        rows.append(
            {
                "d": d,
                "r": r,
                "m": m,
                "M": m,
                "seed": s,
                "bound": bound,
                "rank_random": found.rank,
                "rank_witness": witness.rank,
                "atol": found.atol,
                "gap_random": found.gap,
                "cond_F": float(np.linalg.cond(F)),
                "method": "dense",
                "bound_holds": found.rank >= bound,
                "witness_exact": witness.rank == bound,
            }
        )
    for d in progress(scale_ds, total=len(scale_ds), desc="theorem1 certified witness"):
        rows.append(certified_witness(d, random_state=seed))
    summary = {
        "theorem": "[K18] Theorem 1: CP-rank(W) >= min(m, r)^(d/2) for generic TT of rank r",
        "settings": {
            "d": list(ds),
            "r": list(rs),
            "m": m,
            "seeds": n_seeds,
            "base_seed": seed,
            "templates": "M = m Gaussian points; LinearFeatures (invertible F)",
        },
        "certified_witness": {
            "d": list(scale_ds),
            "templates": "M = 4 unit vectors of R^2 (e1, e2, diagonals), identity features",
            "method": "exact submatrix certificate, rank over GF(p) (docs/theory.md 4.4)",
        },
        "bound_holds_everywhere": all(row["bound_holds"] for row in rows if "bound_holds" in row),
        "witness_exact_everywhere": all(row["witness_exact"] for row in rows),
    }
    return ExperimentResult("theorem1", rows, summary)


def plot(result: ExperimentResult, path: str | Path) -> None:
    """Rank of the odd/even matricization vs r, one panel per d, bound dashed; last panel:
    the certified witness rank against d."""
    save_figure(figure(result), path)


def figure(result: ExperimentResult):
    """The matplotlib figure of :func:`plot` (not saved)."""
    dense = [row for row in result.rows if row.get("method", "dense") == "dense"]
    scale = [row for row in result.rows if row.get("method") == "submatrix"]
    ds = sorted({row["d"] for row in dense})
    n_panels = len(ds) + bool(scale)
    ncols = min(n_panels, 2)  # two panels a row: readable at page width
    nrows = -(-n_panels // ncols)
    fig, grid = new_figure(nrows, ncols, figsize=(7.5, 0.6 + 2.9 * nrows), squeeze=False)
    axes = [list(grid.ravel())]
    for ax in axes[0][n_panels:]:
        ax.set_visible(False)
    for ax, d in zip(axes[0], ds, strict=False):
        sub = [row for row in dense if row["d"] == d]
        rs = sorted({row["r"] for row in sub})
        rand = [np.mean([row["rank_random"] for row in sub if row["r"] == r]) for r in rs]
        wit = [next(row["rank_witness"] for row in sub if row["r"] == r) for r in rs]
        bound = [next(row["bound"] for row in sub if row["r"] == r) for r in rs]
        ax.plot(rs, rand, "o-", label="random TT")
        ax.plot(rs, wit, "s", mfc="none", ms=9, label="witness TT")
        ax.plot(rs, bound, "k--", label="min(m, r)^(d/2)")
        log_integer_axis(ax, "y")
        # a labelled tick at every value the curves reach: the plateau min(m, r)^(d/2) too
        ax.set_yticks(sorted({1, *bound, *wit}))
        ax.set_title(f"d = {d}, m = {sub[0]['m']}")
        ax.set_xlabel("TT rank r")
        integer_ticks(ax, "x")
        ax.legend(fontsize=9)
    if scale:
        ax = axes[0][-1]
        sd = [row["d"] for row in scale]
        ax.plot(
            sd, [row["rank_witness"] for row in scale], "s", mfc="none", ms=9, label="certified"
        )
        ax.plot(sd, [row["bound"] for row in scale], "k--", label="2^(d/2)")
        log_integer_axis(ax, "y")
        ax.set_yticks(
            sorted({*[row["rank_witness"] for row in scale], *[row["bound"] for row in scale]})
        )
        ax.set_xticks(sd)
        ax.set_title("witness, M = 4: certified")
        ax.set_xlabel("d")
        ax.legend(fontsize=9)
    for row_axes in grid:
        row_axes[0].set_ylabel("odd/even rank")
    fig.suptitle("[K18] Thm 1: odd/even rank of TT grid tensors vs the bound min(m, r)^(d/2)")
    return fig


THEOREM1 = Experiment(
    name="theorem1",
    description="[K18] Thm 1: odd/even rank of random TT grid tensors vs min(m, r)^(d/2), "
    "with the witness attaining it",
    run=run,
    plot=plot,
)
