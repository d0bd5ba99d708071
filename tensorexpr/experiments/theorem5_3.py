"""[K19] Theorem 5.3: depth efficiency is not complete for ReLU networks.

An open set of generalized ReLU RNNs (any rank R) is realised by a rank-1 generalized shallow
network. The base point (**our reconstruction** of [K19]'s): one-hot templates, ``C_t = I``
(L = M), every core of ones except the first, ``G_1 = 2``. Then ``h_1 = 2`` and, since
``h_{t-1} >= 2 > a_t``, ``h_t = sum_{i,j} max(a_t[i], h_{t-1}[j]) = M R h_{t-1}``: the grid
tensor is the constant ``2 (M R)^(d-1)`` of docs/theory.md 5.5. The inequalities are strict, so
after a small perturbation of every parameter the maxima still pick the hidden state: the
grid depends on ``x_1`` only, ``Gamma = g(i_1) = max(g(i_1), negative, ...)``, which is one
rank-1 relu_max term. The experiment perturbs the base point, refits a rank-1 shallow network
with :func:`tensorexpr.fit_generalized`, and compares with a random RNN of the same size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..analysis.expressivity import shallow_width_lower_bound
from ..engine import fit_generalized
from ..features import LinearFeatures
from ..networks import CPNetwork, TTNetwork
from ._base import Experiment, ExperimentResult, new_figure, no_progress, save_figure

__all__ = ["run", "plot", "base_network", "rank_one_equivalent", "THEOREM5_3"]


def base_network(M: int, R: int, d: int) -> TTNetwork:
    """The base point: a relu_max RNN with the constant grid tensor ``2 (M R)^(d-1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr.experiments.theorem5_3 import base_network
    >>> np.unique(base_network(3, 2, 4).grid_tensor(np.eye(3))).tolist()  # 2 * 6^3
    [432.0]
    """
    cores = [2.0 * np.ones((1, M, R))]
    cores += [np.ones((R, M, R)) for _ in range(d - 2)]
    cores += [np.ones((R, M, 1))]
    return TTNetwork(
        cores, LinearFeatures.identity(M), xi="relu_max", matrices=[np.eye(M) for _ in range(d)]
    )


def perturbed(net: TTNetwork, eps: float, rng) -> TTNetwork:
    """Every core and input matrix entry moved by ``eps * N(0, 1)`` (relative to 1)."""
    cores = [c + eps * rng.standard_normal(c.shape) for c in net.cores]
    mats = [c + eps * rng.standard_normal(c.shape) for c in net.matrices]
    return TTNetwork(cores, net.feature_map, xi=net.xi, matrices=mats)


def rank_one_equivalent(grid: np.ndarray) -> CPNetwork | None:
    """The explicit rank-1 relu_max network ``max(g(i_1), -1, ..., -1)`` when the grid
    depends on the first position only and is positive; None otherwise."""
    first = grid.reshape(grid.shape[0], -1)
    g = first[:, 0]
    if np.any(g <= 0) or not np.allclose(first, g[:, None], rtol=1e-12, atol=0):
        return None
    M, d = grid.shape[0], grid.ndim
    factors = [g[:, None]] + [-np.ones((M, 1)) for _ in range(d - 1)]
    return CPNetwork(factors, LinearFeatures.identity(M), xi="relu_max")


def run(quick: bool = False, seed: int = 0, progress=no_progress) -> ExperimentResult:
    """Perturb the base point, certify and refit rank 1; random RNNs for contrast.

    Parameters
    ----------
    quick : bool
        M = 3, R = 2, d = 4, eps in 0, 1e-2, 5e-2, one draw each (seconds); otherwise
        M in 3, 4, R in 1, 2, 4, d in 4, 6, eps in 0, 1e-3, 1e-2, 5e-2, 3 draws.
    seed : int
        Base seed.
    progress : callable
        Wraps the loop (``tqdm``-like).

    Returns
    -------
    ExperimentResult
    """
    if quick:
        shapes, epss, n_draws, max_iter = [(3, 2, 4)], (0.0, 1e-2, 5e-2), 1, 3000
    else:
        shapes = [(M, R, d) for M in (3, 4) for R in (1, 2, 4) for d in (4, 6)]
        epss, n_draws, max_iter = (0.0, 1e-3, 1e-2, 5e-2), 3, 6000
    cases = [
        (M, R, d, eps, s)
        for M, R, d in shapes
        for eps in (*epss, "random")
        for s in range(n_draws if eps != 0.0 else 1)
    ]
    rows = []
    for M, R, d, eps, s in progress(cases, total=len(cases), desc="theorem5_3"):
        rng = np.random.default_rng([seed, M, R, d, s])
        if eps == "random":
            net = TTNetwork.random(
                d,
                LinearFeatures.identity(M),
                rank=R,
                xi="relu_max",
                hidden_size=M,
                random_state=rng,
            )
        else:
            net = perturbed(base_network(M, R, d), eps, rng)
        templates = np.eye(M)
        grid = np.asarray(net.grid_tensor(templates))
        explicit = rank_one_equivalent(grid)
        explicit_error = (
            np.nan
            if explicit is None
            else float(
                np.linalg.norm(np.asarray(explicit.grid_tensor(templates)) - grid)
                / np.linalg.norm(grid)
            )
        )
        fit = fit_generalized(
            grid,
            "cp",
            rank=1,
            xi="relu_max",
            tol=1e-12,
            max_iter=max_iter,
            n_restarts=3,
            random_state=rng,
        )
        variation = float(np.linalg.norm(grid - grid.mean()))
        residual = fit.relative_error * float(np.linalg.norm(grid))
        rows.append(
            {
                "M": M,
                "R": R,
                "d": d,
                "eps": eps,
                "draw": s,
                "constant": 2.0 * (M * R) ** (d - 1),
                "grid_mean": float(grid.mean()),
                "grid_spread": float(grid.max() - grid.min()),
                "depends_on_x1_only": explicit is not None,
                "explicit_rank1_error": explicit_error,
                "width_bound": shallow_width_lower_bound(net, templates=templates).bound,
                "fit_rank1_error": fit.relative_error,
                "fit_rank1_error_of_variation": residual / variation if variation > 0 else 0.0,
            }
        )
    base = [row for row in rows if row["eps"] == 0.0]
    pert = [row for row in rows if row["eps"] not in (0.0, "random")]
    summary = {
        "theorem": "[K19] Thm 5.3: an open set of generalized ReLU RNNs equals rank-1 "
        "generalized shallow networks",
        "settings": {
            "shapes (M, R, d)": shapes,
            "eps": list(epss),
            "draws": n_draws,
            "base_seed": seed,
            "fit": "fit_generalized cp rank 1 relu_max",
        },
        "base_grid_is_constant": all(
            row["grid_spread"] == 0.0 and row["grid_mean"] == row["constant"] for row in base
        ),
        "perturbed_stay_rank1": all(
            row["depends_on_x1_only"] and row["width_bound"] == 1 for row in pert
        ),
        "max_fit_rank1_error_perturbed": max(row["fit_rank1_error"] for row in pert),
        "min_fit_rank1_error_random": min(
            row["fit_rank1_error"] for row in rows if row["eps"] == "random"
        ),
    }
    return ExperimentResult("theorem5_3", rows, summary)


def plot(result: ExperimentResult, path: str | Path) -> None:
    """Rank-1 refit error vs perturbation size; random RNNs on the right."""
    fig, ax = new_figure(figsize=(5, 3.4))
    labels = []
    for pos, eps in enumerate(dict.fromkeys(row["eps"] for row in result.rows)):
        errs = [max(row["fit_rank1_error"], 1e-17) for row in result.rows if row["eps"] == eps]
        ax.plot([pos] * len(errs), errs, "o", color="C3" if eps == "random" else "C0")
        labels.append(str(eps))
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yscale("log")
    ax.set_xlabel("perturbation eps of the base point (or a random RNN)")
    ax.set_ylabel("relative error of a rank-1 relu_max fit")
    save_figure(fig, path)


THEOREM5_3 = Experiment(
    name="theorem5_3",
    description="[K19] Thm 5.3: perturbed ReLU RNNs around the base point stay rank-1 shallow",
    run=run,
    plot=plot,
)
