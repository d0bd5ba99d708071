"""Real time series and tables at the estimators' defaults, beside the baselines (one run).

Every model sees the data as it comes: the UCR/UEA sets that ship inside aeon, in aeon's
``(n, channels, time)`` layout with their official train/test splits, and MNIST-1D generated
with longer ``final_seq_length`` (160 and 640: long series). The network estimators get
``make_pipeline(SequenceWindows(), Estimator())`` with every parameter at its default (no
scaler, no ``n_inputs``); the baselines are LogisticRegression and MLPClassifier after a
StandardScaler on the flattened series, aeon's 1-NN DTW and MiniRocket, on the same splits.
Seeds change the estimators' random_state (and MiniRocket's), never the split.

Also measured: training accuracy (does the network fit the training set?), invariance to a
change of units (``X -> 1000 X + 50`` on train and test), the median fit time, and the
TTNetworkRegressor on ``load_diabetes`` (25% test, splits by seed) beside RidgeCV.

Run (the ``bench`` extra plus aeon)::

    python benchmarks/bench_series.py [--seeds 0 1 2 3 4] [--sets GunPoint ...] [--no-dtw-long]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.linear_model import LogisticRegression, RidgeCV  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, StandardScaler  # noqa: E402

from estimators import (  # noqa: E402
    CPNetworkClassifier,
    HTNetworkClassifier,
    SequenceWindows,
    TTNetworkClassifier,
    TTNetworkRegressor,
)

SETS = ("GunPoint", "ItalyPowerDemand", "BasicMotions", "MNIST1D-160", "MNIST1D-640")


def load(name: str):
    """(X_train, y_train, X_test, y_test), X as aeon stores series: (n, channels, time)."""
    if name.startswith("MNIST1D"):
        from mnist1d.data import get_dataset_args, make_dataset

        args = get_dataset_args()
        args.final_seq_length = int(name.split("-")[1])
        data = make_dataset(args)  # generated, never downloaded
        return data["x"][:, None, :], data["y"], data["x_test"][:, None, :], data["y_test"]
    from aeon.datasets import load_basic_motions, load_gunpoint, load_italy_power_demand

    loader = {
        "GunPoint": load_gunpoint,
        "ItalyPowerDemand": load_italy_power_demand,
        "BasicMotions": load_basic_motions,
    }[name]
    X, y = loader(split="train")
    Xt, yt = loader(split="test")
    return X, y, Xt, yt


def flat():
    return FunctionTransformer(lambda X: X.reshape(len(X), -1))


def models(seed: int, dtw: bool):
    from aeon.classification.convolution_based import MiniRocketClassifier
    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    out = {
        "TTNetworkClassifier": make_pipeline(
            SequenceWindows(), TTNetworkClassifier(random_state=seed)
        ),
        "CPNetworkClassifier": make_pipeline(
            SequenceWindows(), CPNetworkClassifier(random_state=seed)
        ),
        "HTNetworkClassifier": make_pipeline(
            SequenceWindows(), HTNetworkClassifier(random_state=seed)
        ),
        "LogisticRegression (scaled)": make_pipeline(
            flat(), StandardScaler(), LogisticRegression(max_iter=2000)
        ),
        "MLPClassifier (scaled)": make_pipeline(
            flat(), StandardScaler(), MLPClassifier(max_iter=1000, random_state=seed)
        ),
        "MiniRocket": MiniRocketClassifier(random_state=seed),
    }
    if dtw:
        out["1-NN DTW"] = KNeighborsTimeSeriesClassifier(distance="dtw", n_neighbors=1)
    return out


DETERMINISTIC = ("LogisticRegression (scaled)", "1-NN DTW")


def fit_score(model, X, y, Xt, yt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
        return model.score(Xt, yt), model.score(X, y), seconds


def bench_sets(sets, seeds, dtw_long: bool):
    table = {}
    for name in sets:
        X, y, Xt, yt = load(name)
        long = name.startswith("MNIST1D")
        for seed in seeds:
            for label, model in models(seed, dtw=dtw_long or not long).items():
                if label in DETERMINISTIC and seed != seeds[0]:
                    table[(name, label)].append(table[(name, label)][0])
                    continue
                acc, train, sec = fit_score(model, X, y, Xt, yt)
                table.setdefault((name, label), []).append((acc, train, sec))
                print(
                    f"  {name} seed {seed}: {label} {acc:.3f} (train {train:.3f}, {sec:.1f} s)",
                    flush=True,
                )
    return table


def invariance(sets, seeds, table=None):
    """TT accuracy on (X, X') and on (1000 X + 50, 1000 X' + 50), same seeds; the raw
    accuracies are taken from ``table`` (the same fits, same seeds) where it has them."""
    rows = []
    for name in sets:
        X, y, Xt, yt = load(name)
        for i, seed in enumerate(seeds):
            done = (table or {}).get((name, "TTNetworkClassifier"))
            a = done[i][0] if done else None
            if a is None:
                model = make_pipeline(SequenceWindows(), TTNetworkClassifier(random_state=seed))
                a = fit_score(model, X, y, Xt, yt)[0]
            b = fit_score(
                make_pipeline(SequenceWindows(), TTNetworkClassifier(random_state=seed)),
                1000 * X + 50,
                y,
                1000 * Xt + 50,
                yt,
            )[0]
            rows.append((name, seed, a, b))
            print(f"  {name} seed {seed}: {a:.4f} raw, {b:.4f} after 1000 X + 50", flush=True)
    return rows


def diabetes(seeds):
    X, y = load_diabetes(return_X_y=True)
    tt, ridge, secs = [], [], []
    for seed in seeds:
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed)
        r2, _, sec = fit_score(TTNetworkRegressor(random_state=seed), Xtr, ytr, Xte, yte)
        tt.append(r2)
        secs.append(sec)
        ridge.append(RidgeCV().fit(Xtr, ytr).score(Xte, yte))
        print(
            f"  diabetes seed {seed}: TT R^2 {tt[-1]:.3f} ({sec:.1f} s), RidgeCV {ridge[-1]:.3f}",
            flush=True,
        )
    return tt, ridge, secs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--dtw-long", action="store_true", help="also 1-NN DTW on MNIST-1D")
    parser.add_argument("--no-invariance", action="store_true")
    args = parser.parse_args()

    table = bench_sets(args.sets, args.seeds, args.dtw_long)
    labels = list(dict.fromkeys(label for _, label in table))
    print(f"\nTest accuracy, mean / min over seeds {args.seeds} (training accuracy mean):\n")
    print("| model | " + " | ".join(args.sets) + " | mean over sets |")
    print("|---|" + "---|" * (len(args.sets) + 1))
    for label in labels:
        cells, means = [], []
        for name in args.sets:
            runs = table.get((name, label))
            if runs is None:
                cells.append("not run")
                continue
            acc = np.array([r[0] for r in runs])
            train = np.mean([r[1] for r in runs])
            cells.append(f"{acc.mean():.3f} / {acc.min():.3f} ({train:.2f})")
            means.append(acc.mean())
        overall = f"{np.mean(means):.3f}" if len(means) == len(args.sets) else "-"
        print(f"| {label} | " + " | ".join(cells) + f" | {overall} |")
    print("\nFit time, median over seeds (s):\n")
    print("| model | " + " | ".join(args.sets) + " |")
    print("|---|" + "---|" * len(args.sets))
    for label in labels:
        cells = [
            f"{np.median([r[2] for r in table[(n, label)]]):.1f}" if (n, label) in table else "-"
            for n in args.sets
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")
    ucr = [n for n in args.sets if not n.startswith("MNIST1D")]
    tt_times = [r[2] for n in ucr for r in table[(n, "TTNetworkClassifier")]]
    mr_times = [r[2] for n in ucr for r in table[(n, "MiniRocket")]]
    if tt_times:
        print(
            f"\nUCR sets: TT fit median {np.median(tt_times):.1f} s, MiniRocket "
            f"{np.median(mr_times):.1f} s (ratio {np.median(tt_times) / np.median(mr_times):.1f})"
        )

    if not args.no_invariance:
        print("\nInvariance to X -> 1000 X + 50 (TT, UCR sets):\n")
        rows = invariance(ucr, args.seeds, table)
        worst = max(abs(a - b) for *_, a, b in rows) if rows else 0.0
        print(f"largest change of accuracy: {100 * worst:.2f} points")

    print("\nTabular: load_diabetes, TTNetworkRegressor at its defaults vs RidgeCV:\n")
    tt, ridge, secs = diabetes(args.seeds)
    print(
        f"TT R^2 mean {np.mean(tt):.3f} min {np.min(tt):.3f}, fit median {np.median(secs):.1f} s; "
        f"RidgeCV mean {np.mean(ridge):.3f} min {np.min(ridge):.3f}"
    )


if __name__ == "__main__":
    main()
