"""The estimators at their defaults against the baselines, in one run on the same splits.

Sections (all by default, or pick with ``--sections``):

- ``digits``: digits as 16 patches of 2x2 (pixels / 16, 3-D input), stratified 75/25 split
  with ``random_state = seed``: TT-, CP- and HT-network classifiers at their defaults
  beside MLPClassifier(max_iter=1000) and LogisticRegression(max_iter=1000) on the raw
  pixels of the same split. Goals: TT mean >= 0.98 and >= MLP's mean, TT min >= 0.97;
  CP and HT >= LogisticRegression on every seed.
- ``mnist1d``: MNIST-1D (``mnist1d.data.make_dataset`` defaults, generated offline, its
  4000 / 1000 split) as windows of 4 with stride 2 (``SequenceWindows`` defaults):
  TTNetworkClassifier at its defaults beside a Keras GRU of about the same parameter
  count trained to convergence (Adam 1e-3, batch 32, early stopping on 10% held out with
  patience 10, best weights kept) on the same windows; one seed per run of both. Beside
  them, the cores unshared and the best TT setting found (``MNIST1D_VARIANTS``).
  Goals: TT mean >= 0.88 and >= the GRU's mean.
- ``throughput``: training samples/s of TTNetworkClassifier (r=8, m=8) against a Keras
  GRU of equal parameter count, digits and generated length-40 sequences; goal >= 10x.
- ``latency``: first fit in a fresh process (TensorFlow import, tracing, compilation)
  and a refit, digits at the defaults.
- ``search``: GridSearchCV over the TT defaults, serial against ``n_jobs=2``.

Every accuracy is reported per seed with its mean and minimum.

    python benchmarks/bench_estimators.py [--seeds 0 1 2 3 4] [--sections digits mnist1d]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from estimators import (  # noqa: E402
    CPNetworkClassifier,
    HTNetworkClassifier,
    ImagePatches,
    SequenceWindows,
    TTNetworkClassifier,
)

THROUGHPUT_TARGET = 10.0
SECTIONS = ("digits", "throughput", "latency", "search", "mnist1d")


def digits_split(seed: int):
    """Raw pixels and 16 patches of 2x2 (pixels / 16, 3-D) of one stratified 75/25 split."""
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    patches = ImagePatches(patch_size=2, image_shape=(8, 8))

    def to_patches(Z):
        return patches.fit_transform(Z / 16.0).reshape(len(Z), 16, 4)

    return (Xtr, Xte), (to_patches(Xtr), to_patches(Xte)), (ytr, yte)


def mnist1d_windows():
    """MNIST-1D (generated with the package defaults) as SequenceWindows() windows, 3-D."""
    from mnist1d.data import get_dataset_args, make_dataset

    data = make_dataset(get_dataset_args())
    windows = SequenceWindows().fit(data["x"])
    shape = (-1, windows.n_windows_, windows.window_dim_)
    Xtr = windows.transform(data["x"]).reshape(shape)
    Xte = windows.transform(data["x_test"]).reshape(shape)
    return Xtr, Xte, data["y"], data["y_test"]


def spread(scores) -> str:
    scores = np.asarray(scores)
    return f"mean {scores.mean():.4f}, min {scores.min():.4f}"


def fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model.fit(X, y)
    return model, time.perf_counter() - start


def row(name: str, scores, seconds=None) -> str:
    cells = " | ".join(f"{s:.3f}" for s in scores)
    extra = "" if seconds is None else f" | {np.mean(seconds):.1f} s"
    return f"| {name} | {cells} | {np.mean(scores):.3f} | {np.min(scores):.3f}{extra} |"


def bench_digits(seeds) -> bool:
    scores: dict[str, list[float]] = {}
    seconds: dict[str, list[float]] = {}
    for seed in seeds:
        (Ptr, Pte), (Str, Ste), (ytr, yte) = digits_split(seed)
        models = {
            "TTNetworkClassifier": (TTNetworkClassifier(random_state=seed), Str, Ste),
            "CPNetworkClassifier": (CPNetworkClassifier(random_state=seed), Str, Ste),
            "HTNetworkClassifier": (HTNetworkClassifier(random_state=seed), Str, Ste),
            "MLPClassifier (pixels)": (
                MLPClassifier(random_state=seed, max_iter=1000),
                Ptr,
                Pte,
            ),
            "LogisticRegression (pixels)": (LogisticRegression(max_iter=1000), Ptr, Pte),
        }
        for name, (model, Xtr, Xte) in models.items():
            model, sec = fit_quietly(model, Xtr, ytr)
            scores.setdefault(name, []).append(model.score(Xte, yte))
            seconds.setdefault(name, []).append(sec)
    print(f"\ndigits, 16 patches of 2x2, test accuracy, seeds {list(seeds)}:\n")
    print("| model | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | min | fit |")
    print("|---|" + "---|" * (len(seeds) + 3))
    for name in scores:
        print(row(name, scores[name], seconds[name]))
    tt, mlp = np.array(scores["TTNetworkClassifier"]), np.array(scores["MLPClassifier (pixels)"])
    logistic = np.array(scores["LogisticRegression (pixels)"])
    checks = {
        "TT mean >= 0.98": tt.mean() >= 0.98,
        "TT mean >= MLP mean": tt.mean() >= mlp.mean(),
        "TT min >= 0.97": tt.min() >= 0.97,
        "CP >= LogisticRegression on every seed": bool(
            np.all(np.array(scores["CPNetworkClassifier"]) >= logistic)
        ),
        "HT >= LogisticRegression on every seed": bool(
            np.all(np.array(scores["HTNetworkClassifier"]) >= logistic)
        ),
    }
    return report(checks)


def report(checks: dict[str, bool]) -> bool:
    for name, ok in checks.items():
        print(f"  {name}: {'PASS' if ok else 'FAIL'}")
    return all(checks.values())


def gru_units_for(n_params: int, n_inputs: int, n_classes: int) -> int:
    """Hidden size whose Keras GRU (+ dense logits) has about n_params parameters."""

    def count(h):
        return 3 * (h * (n_inputs + h) + 2 * h) + h * n_classes + n_classes

    return min(range(1, 1024), key=lambda h: abs(count(h) - n_params))


def keras_gru(input_shape, units: int, n_classes: int, learning_rate: float):
    import keras

    model = keras.Sequential(
        [keras.Input(shape=input_shape), keras.layers.GRU(units), keras.layers.Dense(n_classes)]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def fit_gru_to_convergence(Xtr, ytr, Xte, yte, units: int, seed: int):
    """Adam 1e-3, batch 32, up to 200 epochs, early stopping (patience 10) on 10% held out."""
    import keras

    keras.utils.set_random_seed(seed)
    Xfit, Xval, yfit, yval = train_test_split(
        Xtr.astype("float32"), ytr, test_size=0.1, stratify=ytr, random_state=seed
    )
    model = keras_gru(Xtr.shape[1:], units, int(ytr.max()) + 1, 1e-3)
    stop = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", patience=10, restore_best_weights=True
    )
    start = time.perf_counter()
    history = model.fit(
        Xfit,
        yfit,
        validation_data=(Xval, yval),
        batch_size=32,
        epochs=200,
        callbacks=[stop],
        verbose=0,
    )
    seconds = time.perf_counter() - start
    accuracy = float(model.evaluate(Xte.astype("float32"), yte, verbose=0)[1])
    return accuracy, seconds, len(history.history["loss"]), model.count_params()


#: TT settings reported beside the defaults on MNIST-1D: the cores unshared (what the
#: default changed) and the best setting found (docs/estimators.md)
MNIST1D_VARIANTS = {
    "TT, share_cores=False": {"share_cores": False},
    "TT, rank 32, n_features 32": {"rank": 32, "n_features": 32},
}


def bench_mnist1d(seeds, variants: bool = True) -> bool:
    Xtr, Xte, ytr, yte = mnist1d_windows()
    names = ["TTNetworkClassifier"] + (list(MNIST1D_VARIANTS) if variants else [])
    scores: dict[str, list[float]] = {}
    seconds: dict[str, list[float]] = {}
    gru_name = None
    for seed in seeds:
        for name in names:
            clf = TTNetworkClassifier(random_state=seed, **MNIST1D_VARIANTS.get(name, {}))
            clf, sec = fit_quietly(clf, Xtr, ytr)
            scores.setdefault(name, []).append(clf.score(Xte, yte))
            seconds.setdefault(name, []).append(sec)
            print(
                f"  seed {seed}: {name} {scores[name][-1]:.4f} ({clf.n_params_} params, "
                f"{clf.n_iter_} epochs, {sec:.0f} s)",
                flush=True,
            )
            if name == "TTNetworkClassifier":
                n_params = clf.n_params_
        units = gru_units_for(n_params, Xtr.shape[2], 10)
        accuracy, sec, epochs, gru_params = fit_gru_to_convergence(Xtr, ytr, Xte, yte, units, seed)
        gru_name = f"Keras GRU({units}), {gru_params} params"
        scores.setdefault(gru_name, []).append(accuracy)
        seconds.setdefault(gru_name, []).append(sec)
        print(
            f"  seed {seed}: {gru_name} {accuracy:.4f} ({epochs} epochs, {sec:.0f} s)", flush=True
        )
    print(
        f"\nMNIST-1D as {Xtr.shape[1]} windows of 4 (stride 2), test accuracy, "
        f"seeds {list(seeds)}:\n"
    )
    print("| model | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | min | fit |")
    print("|---|" + "---|" * (len(seeds) + 3))
    for name in scores:
        print(row(name, scores[name], seconds[name]))
    tt = scores["TTNetworkClassifier"]
    return report(
        {
            "TT mean >= 0.88": np.mean(tt) >= 0.88,
            "TT mean >= GRU mean": np.mean(tt) >= np.mean(scores[gru_name]),
        }
    )


def generated_sequences(n=4000, d=40, seed=0):
    """MNIST-1D-like: a class-dependent template, shifted and noisy, as d scalars."""
    rng = np.random.default_rng(seed)
    templates = rng.standard_normal((10, d))
    y = rng.integers(0, 10, n)
    shifts = rng.integers(-3, 4, n)
    X = np.stack([np.roll(templates[c], s) for c, s in zip(y, shifts, strict=True)])
    X = X + 0.3 * rng.standard_normal(X.shape)
    return X[:, :, None], y


def time_tt(X, y, epochs, batch_size):
    """Samples/s of ``epochs`` epochs in one warm-started fit (r=8, m=8, float32, XLA).

    A first one-epoch fit traces and compiles outside the timing; ``n_iter_no_change``
    above ``epochs`` keeps the plateau schedule from stopping the timed fit early.
    """
    clf = TTNetworkClassifier(
        rank=8,
        n_features=8,
        batch_size=batch_size,
        max_iter=1,
        dropout=0.0,
        dtype="float32",
        random_state=0,
    )
    fit_quietly(clf, X, y)
    clf.set_params(warm_start=True, max_iter=epochs, n_iter_no_change=epochs + 1)
    _, seconds = fit_quietly(clf, X, y)
    return len(y) * epochs / seconds, clf.n_params_


def time_gru(X, y, epochs, batch_size, units):
    import keras

    keras.utils.set_random_seed(0)
    model = keras_gru(X.shape[1:], units, int(y.max()) + 1, 5e-3)
    Xf = X.astype("float32")
    model.fit(Xf, y, batch_size=batch_size, epochs=1, verbose=0)  # compile
    start = time.perf_counter()
    model.fit(Xf, y, batch_size=batch_size, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    return len(y) * epochs / seconds, model.count_params()


def bench_throughput(epochs: int = 5, batch_size: int = 64) -> bool:
    X, y = load_digits(return_X_y=True)
    digits = (ImagePatches(patch_size=2, image_shape=(8, 8)).fit_transform(X / 16.0), y)
    digits = (digits[0].reshape(len(y), 16, 4), y)
    checks = {}
    print(f"\ntraining throughput, batch {batch_size}, {epochs} epochs, compile excluded:\n")
    for name, (X, y) in [("digits 16x(2x2)", digits), ("generated d=40", generated_sequences())]:
        tt_rate, tt_params = time_tt(X, y, epochs, batch_size)
        units = gru_units_for(tt_params, X.shape[2], int(y.max()) + 1)
        gru_rate, gru_params = time_gru(X, y, epochs, batch_size, units)
        ratio = tt_rate / gru_rate
        print(
            f"  {name}: TTNetworkClassifier {tt_rate:,.0f} samples/s ({tt_params} params), "
            f"Keras GRU({units}) {gru_rate:,.0f} samples/s ({gru_params} params), "
            f"ratio {ratio:.1f}x"
        )
        checks[f"{name} ratio >= {THROUGHPUT_TARGET:.0f}x"] = ratio >= THROUGHPUT_TARGET
    return report(checks)


_FIRST_FIT = """
import time, warnings
start = time.perf_counter()
import numpy as np
from sklearn.datasets import load_digits
from estimators import ImagePatches, TTNetworkClassifier
X, y = load_digits(return_X_y=True)
X = ImagePatches(patch_size=2, image_shape=(8, 8)).fit_transform(X / 16.0).reshape(-1, 16, 4)
imported = time.perf_counter()
warnings.simplefilter("ignore")
clf = TTNetworkClassifier(random_state=0, max_iter={epochs}, dtype="{dtype}").fit(X, y)
first = time.perf_counter()
clf.fit(X, y)
refit = time.perf_counter()
print(imported - start, first - imported, refit - first)
"""


def first_fit_and_refit(epochs: int, dtype: str) -> tuple[float, float, float]:
    """(import, first fit, refit) seconds in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", _FIRST_FIT.format(epochs=epochs, dtype=dtype)],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    imported, first, refit = map(float, out.stdout.split()[-3:])
    return imported, first, refit


def bench_latency(epochs: int = 5) -> bool:
    """First fit (fresh process) and refit, digits at the defaults, a short fit.

    ``dtype="float32"`` compiles the epoch with XLA whatever the budget (the behaviour
    before the cut); the default ``"auto"`` skips XLA for a short fit (fewer than
    XLA_ITERATIONS iterations and a budget below XLA_FROM sample-epochs), where compiling
    costs more than it saves.
    """
    print(f"\nlatency, digits (1797 samples), max_iter={epochs}, fresh process each:\n")
    for dtype in ("float32", "auto"):
        imported, first, refit = first_fit_and_refit(epochs, dtype)
        print(
            f"  dtype={dtype!r}: import {imported:.1f} s, first fit {first:.2f} s, "
            f"refit {refit:.2f} s (tracing and compiling: {first - refit:.2f} s)"
        )
    return True


def bench_search(n_jobs: int = 2) -> bool:
    """GridSearchCV over alpha (40 epochs per fit): serial against n_jobs worker processes
    (joblib's default backend) and n_jobs threads (joblib's threading backend)."""
    from joblib import parallel_backend
    from sklearn.model_selection import GridSearchCV

    _, (Str, _), (ytr, _) = digits_split(0)
    grid = {"alpha": [1e-4, 1e-3, 1e-2]}

    def search(jobs):
        estimator = TTNetworkClassifier(max_iter=40, random_state=0)
        return fit_quietly(GridSearchCV(estimator, grid, cv=3, n_jobs=jobs), Str, ytr)[1]

    serial = search(None)
    processes = search(n_jobs)
    with parallel_backend("threading", n_jobs=n_jobs):
        threads = search(n_jobs)
    print(
        f"\nGridSearchCV, 3 x 3-fold fits + refit on digits: serial {serial:.1f} s, "
        f"n_jobs={n_jobs} processes {processes:.1f} s (speed-up {serial / processes:.2f}x), "
        f"threads {threads:.1f} s (speed-up {serial / threads:.2f}x)"
    )
    return report({f"n_jobs={n_jobs} no slower than serial": processes <= serial})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--epochs", type=int, default=5, help="epochs timed for throughput")
    parser.add_argument(
        "--no-variants", action="store_true", help="MNIST-1D: the defaults and the GRU only"
    )
    args = parser.parse_args(argv)
    benches = {
        "digits": lambda: bench_digits(args.seeds),
        "mnist1d": lambda: bench_mnist1d(args.seeds, not args.no_variants),
        "throughput": lambda: bench_throughput(args.epochs),
        "latency": lambda: bench_latency(),
        "search": lambda: bench_search(),
    }
    ok = True
    for section in args.sections:
        ok &= benches[section]()
    print("\nPASS" if ok else "\nFAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
