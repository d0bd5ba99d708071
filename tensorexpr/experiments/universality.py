"""[K19] Theorem 5.1 and [CS16]: which generalized shallow networks are universal.

Random grid tensors (M^d Gaussian entries) are fitted by generalized shallow (CP) networks of
growing width with :func:`tensorexpr.fit_generalized`. With xi = relu_max (max pooling) and
xi = product the error reaches ~0 once the width is large enough (width M^d + 1 always
suffices for relu_max: ``1 - delta_j`` is one max term, the constant another); with
xi = relu_sum (average pooling) every term is a sum of functions of one position each, so the
error plateaus at the distance from the target to the additive tensors, whatever the width.
That distance is computed exactly (least squares) and reported as ``additive_floor``.

Beside the gradient fits, every target is also reproduced by
:func:`tensorexpr.construct_generalized` for each xi and each network kind (CP, TT, HT): the
rows with ``method = "construction"`` give the constructed network's width (largest rank) and
its relative error, evaluated by the network itself on every template tuple
(:func:`tensorexpr.grid_tensor` on its ``__call__``). For relu_sum the construction is the
best any network of the kind reaches, and ``floor`` is :func:`tensorexpr.relu_sum_floor` of
that kind (docs/theory.md, section 8.4).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..analysis.construction import construct_generalized, relu_sum_floor
from ..engine import fit_generalized
from ..grid import grid_tensor
from ..networks import KINDS
from ._base import (
    PAGE_WIDTH_IN,
    Experiment,
    ExperimentResult,
    log_integer_axis,
    new_figure,
    no_progress,
    save_figure,
)

__all__ = ["run", "plot", "additive_floor", "UNIVERSALITY"]

XIS = ("relu_max", "product", "relu_sum")


def constructed_rows(tensor: np.ndarray, **keys) -> list[dict]:
    """One row per xi and kind: the width and error of :func:`construct_generalized`.

    The error is measured on the network's own scores on every template tuple (one-hot
    templates), not on its grid-tensor recursion.
    """
    M, d = tensor.shape[0], tensor.ndim
    norm = np.linalg.norm(tensor)
    rows = []
    for xi in XIS:
        for kind in KINDS:
            net = construct_generalized(tensor, kind, xi)
            values = np.asarray(grid_tensor(net, np.eye(M), d), dtype=np.float64)
            ranks = net.ranks[:-1] if kind == "ht" else net.ranks
            rows.append(
                {
                    **keys,
                    "method": "construction",
                    "kind": kind,
                    "xi": xi,
                    "width": int(max(ranks)),
                    "relative_error": float(np.linalg.norm(values - tensor) / norm),
                    "floor": relu_sum_floor(tensor, kind) if xi == "relu_sum" else 0.0,
                    "additive_floor": additive_floor(tensor),
                }
            )
    return rows


def additive_floor(tensor: np.ndarray) -> float:
    """Relative distance from ``tensor`` to ``{sum_k g_k(i_k)}``, the tensors relu_sum
    shallow networks of any width can reach (their closure).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorexpr.experiments.universality import additive_floor
    >>> round(additive_floor(np.add.outer(np.arange(3.0), np.ones(3))), 12)
    0.0
    """
    d = tensor.ndim
    # the orthogonal projection on additive tensors: mean + sum of centred marginals
    mean = tensor.mean()
    fit = np.full(tensor.shape, mean)
    for k in range(d):
        other = tuple(j for j in range(d) if j != k)
        marginal = tensor.mean(axis=other) - mean
        fit = fit + marginal.reshape([-1 if j == k else 1 for j in range(d)])
    return float(np.linalg.norm(tensor - fit) / np.linalg.norm(tensor))


def run(quick: bool = False, seed: int = 0, progress=no_progress) -> ExperimentResult:
    """Final relative error of relu_max / product / relu_sum shallow fits vs width.

    Parameters
    ----------
    quick : bool
        M = 3, d = 3, widths 2, 9, 28 (= M^d + 1), 2 targets, 2000 steps (about 20 s);
        otherwise (M, d) in (3, 3), (4, 3), (3, 4), widths 1, 2, 4, ... up to M^d + 1,
        3 targets, 6000 steps, 2 restarts.
    seed : int
        Base seed.
    progress : callable
        Wraps the loop (``tqdm``-like).

    Returns
    -------
    ExperimentResult
    """
    if quick:
        shapes, n_targets, max_iter, restarts = [(3, 3)], 2, 2000, 1
        widths_of = {(3, 3): (2, 9, 28)}
    else:
        shapes, n_targets, max_iter, restarts = [(3, 3), (4, 3), (3, 4)], 3, 6000, 2
        widths_of = {
            (M, d): tuple(w for w in (1, 2, 4, 8, 16, 32, 64) if w < M**d) + (M**d + 1,)
            for M, d in shapes
        }
    cases = [
        (M, d, t, xi, w)
        for M, d in shapes
        for t in range(n_targets)
        for xi in XIS
        for w in widths_of[(M, d)]
    ]
    rows = []
    for M, d, t, xi, w in progress(cases, total=len(cases), desc="universality"):
        target = np.random.default_rng([seed, M, d, t]).standard_normal((M,) * d)
        fit = fit_generalized(
            target,
            "cp",
            rank=w,
            xi=xi,
            tol=1e-6,
            max_iter=max_iter,
            n_restarts=restarts,
            random_state=np.random.default_rng([seed, M, d, t, w]),
        )
        rows.append(
            {
                "M": M,
                "d": d,
                "target": t,
                "method": "gradient",
                "kind": "cp",
                "xi": xi,
                "width": w,
                "relative_error": fit.relative_error,
                "n_iter": fit.n_iter,
                "additive_floor": additive_floor(target),
            }
        )
        if xi == XIS[-1] and w == widths_of[(M, d)][-1]:
            rows += constructed_rows(target, M=M, d=d, target=t)

    def final(xi):
        return [
            row["relative_error"]
            for row in rows
            if row["method"] == "gradient"
            and row["xi"] == xi
            and row["width"] == max(widths_of[(row["M"], row["d"])])
        ]

    built = [row for row in rows if row["method"] == "construction"]
    constructed = {
        f"{xi} {kind}": {
            "max_relative_error": max(
                r["relative_error"] for r in built if r["xi"] == xi and r["kind"] == kind
            ),
            "max_width": max(r["width"] for r in built if r["xi"] == xi and r["kind"] == kind),
        }
        for xi in XIS
        for kind in KINDS
    }
    floors_met = all(
        abs(r["relative_error"] - r["floor"]) <= 1e-9 for r in built if r["xi"] == "relu_sum"
    )

    ratio = min(s / m for s, m in zip(final("relu_sum"), final("relu_max"), strict=True))
    summary = {
        "theorem": "[K19] Thm 5.1: relu_max and product shallow networks are universal; "
        "[CS16]: relu_sum (average pooling) is not",
        "settings": {
            "shapes (M, d)": shapes,
            "widths": {str(k): v for k, v in widths_of.items()},
            "targets": n_targets,
            "max_iter": max_iter,
            "restarts": restarts,
            "base_seed": seed,
        },
        "max_final_error_relu_max": max(final("relu_max")),
        "max_final_error_product": max(final("product")),
        "min_final_error_relu_sum": min(final("relu_sum")),
        "min_ratio_relu_sum_over_relu_max": ratio,
        "constructed": constructed,
        "max_constructed_error_relu_max": max(
            r["relative_error"] for r in built if r["xi"] == "relu_max"
        ),
        "max_constructed_error_product": max(
            r["relative_error"] for r in built if r["xi"] == "product"
        ),
        "relu_sum_construction_meets_floor": floors_met,
    }
    return ExperimentResult("universality", rows, summary)


def plot(result: ExperimentResult, path: str | Path) -> None:
    """Relative error vs width per xi (mean over targets), additive floor dotted."""
    shapes = sorted({(row["M"], row["d"]) for row in result.rows})
    width = min(PAGE_WIDTH_IN, 3.75 * len(shapes))
    fig, axes = new_figure(1, len(shapes), figsize=(max(width, 5.5), 5.4), squeeze=False)
    for ax, (M, d) in zip(axes[0], shapes, strict=True):
        sub = [
            row
            for row in result.rows
            if (row["M"], row["d"]) == (M, d) and row.get("method", "gradient") == "gradient"
        ]
        built = [
            row
            for row in result.rows
            if (row["M"], row["d"]) == (M, d) and row.get("method") == "construction"
        ]
        for xi, color in zip(XIS, ("C0", "C1", "C2"), strict=True):
            for kind, marker in zip(KINDS, ("s", "^", "D"), strict=True):
                pts = [r for r in built if r["xi"] == xi and r["kind"] == kind]
                if pts:
                    ax.plot(
                        [r["width"] for r in pts],
                        [max(r["relative_error"], 1e-17) for r in pts],
                        marker,
                        color=color,
                        mfc="none",
                        label=f"{xi} {kind} construction" if (M, d) == shapes[-1] else None,
                    )
        for xi, color in zip(XIS, ("C0", "C1", "C2"), strict=True):
            widths = sorted({row["width"] for row in sub if row["xi"] == xi})
            errs = [
                np.mean(
                    [
                        max(row["relative_error"], 1e-17)
                        for row in sub
                        if row["xi"] == xi and row["width"] == w
                    ]
                )
                for w in widths
            ]
            ax.plot(widths, errs, "o-", color=color, label=f"{xi} gradient fit")
        ax.axhline(
            np.mean([row["additive_floor"] for row in sub]),
            color="k",
            ls=":",
            label="additive floor",
        )
        log_integer_axis(ax, "x", base=2)
        ax.set_yscale("log")
        ax.set_title(f"M = {M}, d = {d}")
        ax.set_xlabel("shallow width")
    axes[0][0].set_ylabel("relative error of the fit")
    # below the panels: eleven entries do not fit inside one
    fig.legend(*axes[0][-1].get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=9)
    save_figure(fig, path, rect=(0, 0.33, 1, 1))


UNIVERSALITY = Experiment(
    name="universality",
    description="[K19] Thm 5.1 / [CS16]: relu_max and product shallow nets fit any grid "
    "tensor, relu_sum plateaus",
    run=run,
    plot=plot,
)
