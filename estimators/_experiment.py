"""The experiment ``training``: TT vs CP vs HT networks trained as classifiers (docs/theory.md 5.7).

Two parts, after [K18] section 6:

- digits (8x8, pixels scaled to [0, 1]) as 16 patches of 2x2, stratified 75/25 split:
  test accuracy against the number of parameters for TT-, CP- and HT-networks of
  several ranks, with LogisticRegression on the same patches as the reference line;
- make_moons and make_circles fed as 2 positions of 1 value: the decision boundaries
  of the three networks.

Registered for ``tensorexpr reproduce training`` through the entry point
``tensorexpr.experiments`` in pyproject.toml (tensorexpr never imports estimators).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from tensorexpr.experiments import Experiment, ExperimentResult, no_progress, save_figure

__all__ = ["TRAINING", "run", "plot"]

#: training settings shared by the three networks (Adam, docs/theory.md section 5.7)
DIGITS_SETTINGS = dict(
    n_features=16,
    alpha=1e-3,
    dropout=0.1,
    learning_rate=1e-3,
    batch_size=32,
    n_iter_no_change=20,
    max_iter=200,
)
TOY_SETTINGS = dict(n_features=16, learning_rate=2e-2, max_iter=200)
RANKS = {"TT": [4, 8, 16, 24], "CP": [16, 32, 64, 128], "HT": [4, 8, 16]}
RANKS_QUICK = {"TT": [8, 16], "CP": [32, 64], "HT": [8, 16]}
GRID = 60  # decision boundaries are sampled on GRID x GRID points


def _estimators():
    from estimators import CPNetworkClassifier, HTNetworkClassifier, TTNetworkClassifier

    return {"TT": TTNetworkClassifier, "CP": CPNetworkClassifier, "HT": HTNetworkClassifier}


def _digits(seed: int):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from estimators import ImagePatches

    X, y = load_digits(return_X_y=True)
    X = ImagePatches(patch_size=2, image_shape=(8, 8)).fit_transform(X / 16.0)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


def _toy(name: str, seed: int):
    from sklearn.datasets import make_circles, make_moons
    from sklearn.model_selection import train_test_split

    if name == "moons":
        X, y = make_moons(400, noise=0.15, random_state=seed)
    else:
        X, y = make_circles(400, noise=0.1, factor=0.5, random_state=seed)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


def run(quick: bool = False, seed: int = 0, progress=no_progress) -> ExperimentResult:
    """Train TT, CP and HT networks on digits (several ranks) and on moons / circles.

    Parameters
    ----------
    quick : bool, default False
        Two ranks per network and fewer epochs (well under 90 s on 2 cores).
    seed : int, default 0
        Seeds the splits and the networks.
    progress : callable
        ``progress(iterable, total=None, desc=None)``, wraps the list of fits.

    Returns
    -------
    ExperimentResult
        One row per fit: dataset, network, rank, n_params, test and train accuracy,
        seconds. The summary holds the settings, the best digits accuracy per network,
        LogisticRegression's accuracy, and the decision-boundary grids.
    """
    from sklearn.linear_model import LogisticRegression

    estimators = _estimators()
    ranks = RANKS_QUICK if quick else RANKS
    digits = dict(DIGITS_SETTINGS, max_iter=60 if quick else DIGITS_SETTINGS["max_iter"])
    toy = dict(TOY_SETTINGS, max_iter=100 if quick else TOY_SETTINGS["max_iter"])
    jobs = [("digits", net, rank) for net in estimators for rank in ranks[net]]
    jobs += [(data, net, 8) for data in ("moons", "circles") for net in estimators]

    data = {"digits": _digits(seed), "moons": _toy("moons", seed), "circles": _toy("circles", seed)}
    rows, boundaries = [], {}
    for dataset, net, rank in progress(jobs, total=len(jobs), desc="training"):
        Xtr, Xte, ytr, yte = data[dataset]
        settings = dict(digits, n_inputs=4) if dataset == "digits" else toy
        if net in ("TT", "HT"):  # the papers' networks: a tensor per position and node
            settings = dict(settings, share_cores=False)
        clf = estimators[net](rank=rank, random_state=seed, **settings)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(Xtr, ytr)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "dataset": dataset,
                "network": net,
                "rank": rank,
                "n_params": int(clf.network_.n_params),
                "test_accuracy": float(clf.score(Xte, yte)),
                "train_accuracy": float(clf.score(Xtr, ytr)),
                "epochs": int(clf.n_iter_),
                "seconds": round(seconds, 3),
            }
        )
        if dataset != "digits":
            boundaries[f"{dataset}/{net}"] = _boundary(clf, data[dataset])

    Xtr, Xte, ytr, yte = data["digits"]
    logistic = LogisticRegression(max_iter=2000).fit(Xtr, ytr).score(Xte, yte)
    best = {
        net: max(
            r["test_accuracy"] for r in rows if r["dataset"] == "digits" and r["network"] == net
        )
        for net in estimators
    }
    summary = {
        "quick": quick,
        "seed": seed,
        "digits_settings": dict(digits, patches="16 x (2x2)"),
        "toy_settings": toy,
        "best_digits_accuracy": best,
        "logistic_regression_digits_accuracy": float(logistic),
        "toy_points": {
            name: {
                "X": np.round(np.vstack(data[name][:2]), 4).tolist(),
                "y": np.concatenate(data[name][2:]).tolist(),
            }
            for name in ("moons", "circles")
        },
        "boundaries": boundaries,
    }
    return ExperimentResult(name="training", rows=rows, summary=summary)


def _boundary(clf, split) -> dict:
    X = np.vstack(split[:2])
    lo, hi = X.min(axis=0) - 0.3, X.max(axis=0) + 0.3
    xs, ys = np.linspace(lo[0], hi[0], GRID), np.linspace(lo[1], hi[1], GRID)
    grid = np.column_stack([a.ravel() for a in np.meshgrid(xs, ys)])
    proba = clf.predict_proba(grid)[:, 1].reshape(GRID, GRID)
    return {"x": xs.round(4).tolist(), "y": ys.round(4).tolist(), "proba": proba.round(3).tolist()}


def plot(result: ExperimentResult, path) -> None:
    """Accuracy against parameters on digits, and the six decision boundaries (PNG)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 6), layout="constrained")  # no pyplot: no global state
    grid = fig.add_gridspec(2, 5)
    ax = fig.add_subplot(grid[:, :2])
    colors = {"TT": "tab:blue", "CP": "tab:orange", "HT": "tab:green"}
    for net, color in colors.items():
        pts = sorted(
            (r["n_params"], r["test_accuracy"], r["rank"])
            for r in result.rows
            if r["dataset"] == "digits" and r["network"] == net
        )
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=color, label=net)
            for n_params, acc, rank in pts:
                ax.annotate(
                    f"r={rank}",
                    (n_params, acc),
                    fontsize=7,
                    textcoords="offset points",
                    xytext=(3, -9),
                )
    logistic = result.summary.get("logistic_regression_digits_accuracy")
    if logistic is not None:
        ax.axhline(logistic, color="gray", ls="--", label=f"LogisticRegression {logistic:.3f}")
    ax.set_xscale("log")
    ax.set_xlabel("number of parameters")
    ax.set_ylabel("test accuracy")
    ax.set_title("digits as 16 patches of 2x2")
    ax.legend(loc="best")
    boundaries = result.summary.get("boundaries", {})
    points = result.summary.get("toy_points", {})
    for i, dataset in enumerate(("moons", "circles")):
        for j, net in enumerate(colors):
            sub = fig.add_subplot(grid[i, 2 + j])
            b = boundaries.get(f"{dataset}/{net}")
            if b is not None:
                sub.contourf(
                    b["x"],
                    b["y"],
                    np.asarray(b["proba"]),
                    levels=np.linspace(0, 1, 11),
                    cmap="RdBu_r",
                    alpha=0.6,
                )
                sub.contour(b["x"], b["y"], np.asarray(b["proba"]), levels=[0.5], colors="k")
            if dataset in points:
                X, y = np.asarray(points[dataset]["X"]), np.asarray(points[dataset]["y"])
                sub.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", s=6, edgecolors="none")
            acc = [
                r["test_accuracy"]
                for r in result.rows
                if r["dataset"] == dataset and r["network"] == net
            ]
            sub.set_title(f"{net} on {dataset}" + (f": {acc[0]:.2f}" if acc else ""), fontsize=9)
            sub.set_xticks([])
            sub.set_yticks([])
    save_figure(fig, Path(path))  # page width, readable fonts, written atomically


TRAINING = Experiment(
    name="training",
    description="TT vs CP vs HT networks trained by TensorFlow: digits accuracy against "
    "parameters, decision boundaries on moons and circles (docs/theory.md section 5.7)",
    run=run,
    plot=plot,
)
