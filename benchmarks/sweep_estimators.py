"""The sweep behind the estimators' defaults: settings x data sets x seeds, test scores.

Each setting is a dict of estimator parameters applied on top of the defaults; every
setting runs on the same splits (stratified 75/25 with ``random_state = seed`` for the
bundled sets; the fixed 4000 / 1000 split of MNIST-1D, generated offline by
``mnist1d.data.make_dataset``) and seeds the estimator with the same seed. One line per
(setting, data set, seed) is appended to a CSV, so a sweep can be stopped and resumed.

    OMP_NUM_THREADS=1 python benchmarks/sweep_estimators.py --grid digits \\
        --out sweep.csv [--seeds 0 1 2 3 4]

The grids below are the ones docs/estimators.md reports.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from sklearn.datasets import load_digits, make_circles, make_friedman1, make_moons  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402

from estimators import (  # noqa: E402
    CPNetworkClassifier,
    CPNetworkRegressor,
    HTNetworkClassifier,
    HTNetworkRegressor,
    ImagePatches,
    SequenceWindows,
    TTNetworkClassifier,
    TTNetworkRegressor,
)

ESTIMATORS = {
    "tt": TTNetworkClassifier,
    "cp": CPNetworkClassifier,
    "ht": HTNetworkClassifier,
    "ttr": TTNetworkRegressor,
    "cpr": CPNetworkRegressor,
    "htr": HTNetworkRegressor,
    # the baselines, on the same splits
    "mlp": lambda random_state: MLPClassifier(max_iter=1000, random_state=random_state),
    "logreg": lambda random_state: LogisticRegression(max_iter=1000),
    "mlpr": lambda random_state: MLPRegressor(max_iter=2000, random_state=random_state),
    "ridge": lambda random_state: Ridge(),
}

_TOY_CLASSIFICATION = ["moons", "circles"]


def digits_split(seed: int):
    """Digits, pixels / 16, as 16 patches of 2x2 (3-D), stratified 75/25."""
    X, y = load_digits(return_X_y=True)
    X = ImagePatches(patch_size=2, image_shape=(8, 8)).fit_transform(X / 16.0)
    X = X.reshape(len(y), 16, 4)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


_MNIST1D = None


def mnist1d_split(seed: int, window: int = 4, stride: int = 2):
    """MNIST-1D (mnist1d defaults, generated, 4000 / 1000) as windows (3-D); seed unused."""
    global _MNIST1D
    if _MNIST1D is None:
        from mnist1d.data import get_dataset_args, make_dataset

        _MNIST1D = make_dataset(get_dataset_args())
    data = _MNIST1D
    windows = SequenceWindows(window=window, stride=stride).fit(data["x"])
    shape = (-1, windows.n_windows_, windows.window_dim_)
    return (
        windows.transform(data["x"]).reshape(shape),
        windows.transform(data["x_test"]).reshape(shape),
        data["y"],
        data["y_test"],
    )


def toy_split(name: str, seed: int):
    """moons / circles (400 points, 2 positions of 1 value), or friedman1 (regression)."""
    if name == "moons":
        X, y = make_moons(400, noise=0.15, random_state=seed)
    elif name == "circles":
        X, y = make_circles(400, noise=0.1, factor=0.5, random_state=seed)
    else:
        X, y = make_friedman1(1000, noise=1.0, random_state=seed)
        y = (y - 14.4) / 5.0  # about zero mean, unit variance, as a user's scaled target
        return train_test_split(X, y, test_size=0.25, random_state=seed)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


def split(dataset: str, seed: int):
    if dataset == "digits":
        return digits_split(seed)
    if dataset.startswith("mnist1d"):
        parts = dataset.split("-")  # mnist1d-w8-s4: windows of 8, stride 4
        window = int(parts[1][1:]) if len(parts) > 1 else 4
        stride = int(parts[2][1:]) if len(parts) > 2 else 2
        return mnist1d_split(seed, window, stride)
    return toy_split(dataset, seed)


# (name, estimator, data sets, parameters on top of the defaults)
GRIDS: dict[str, list[tuple[str, str, list[str], dict]]] = {
    "smoke": [("defaults", "tt", ["moons"], {})],
    # the small sets: 2 positions (moons, circles) and 10 positions of 1 value (friedman1)
    "toys": [
        *[
            (f"{kind} {name}", kind, _TOY_CLASSIFICATION, params)
            for kind in ("tt", "cp", "ht")
            for name, params in (("defaults", {}), ("dropout 0", {"dropout": 0.0}))
        ],
        *[
            (f"{kind} {name}", kind, ["friedman1"], params)
            for kind in ("ttr", "cpr", "htr")
            for name, params in (("defaults", {}), ("dropout 0", {"dropout": 0.0}))
        ],
        ("MLPClassifier", "mlp", _TOY_CLASSIFICATION, {}),
        ("LogisticRegression", "logreg", _TOY_CLASSIFICATION, {}),
        ("MLPRegressor", "mlpr", ["friedman1"], {}),
        ("Ridge", "ridge", ["friedman1"], {}),
    ],
}


def run_one(estimator: str, dataset: str, seed: int, params: dict) -> dict:
    Xtr, Xte, ytr, yte = split(dataset, seed)
    model = ESTIMATORS[estimator](random_state=seed, **params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(Xtr, ytr)
    seconds = time.perf_counter() - start
    return dict(
        score=model.score(Xte, yte),
        train_score=model.score(Xtr, ytr),
        epochs=getattr(model, "n_iter_", 0),
        seconds=seconds,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", required=True, help="a grid name, or a JSON list of settings")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args(argv)
    grid = GRIDS[args.grid] if args.grid in GRIDS else json.loads(args.grid)
    done = set()
    if args.out.exists():
        with args.out.open() as f:
            done = {(r["setting"], r["dataset"], int(r["seed"])) for r in csv.DictReader(f)}
    fields = ["setting", "estimator", "dataset", "seed", "params"]
    fields += ["score", "train_score", "epochs", "seconds"]
    new = not args.out.exists()
    with args.out.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        if new:
            writer.writeheader()
        for name, estimator, datasets, params in grid:
            for dataset in datasets:
                for seed in args.seeds:
                    if (name, dataset, seed) in done:
                        continue
                    row = run_one(estimator, dataset, seed, params)
                    row.update(
                        setting=name,
                        estimator=estimator,
                        dataset=dataset,
                        seed=seed,
                        params=json.dumps(params),
                    )
                    writer.writerow(row)
                    f.flush()
                    print(
                        f"{name:>24} {dataset:>10} seed {seed}: {row['score']:.4f} "
                        f"(train {row['train_score']:.3f}, {row['epochs']} epochs, "
                        f"{row['seconds']:.1f} s)",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
