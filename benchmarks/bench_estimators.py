"""Training throughput of TTNetworkClassifier against a Keras GRU of about the same size.

Both train on the same sequences (digits as 16 patches of 2x2, and generated sequences
of length 40 with 1 value per step), same batch size, same number of epochs, in one
run on the same machine. Prints samples/s of both, the ratio and PASS (>= 10x) / FAIL.

    /work/venv/bin/python benchmarks/bench_estimators.py [--epochs 5]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from estimators import ImagePatches, TTNetworkClassifier  # noqa: E402

TARGET = 10.0


def digits_sequences():
    X, y = load_digits(return_X_y=True)
    patches = ImagePatches(patch_size=2, image_shape=(8, 8)).fit_transform(X / 16.0)
    return patches.reshape(len(y), 16, 4), y


def generated_sequences(n=4000, d=40, seed=0):
    """MNIST-1D-like: a class-dependent template, shifted and noisy, as d scalars."""
    rng = np.random.default_rng(seed)
    templates = rng.standard_normal((10, d))
    y = rng.integers(0, 10, n)
    shifts = rng.integers(-3, 4, n)
    X = np.stack([np.roll(templates[c], s) for c, s in zip(y, shifts, strict=True)])
    X = X + 0.3 * rng.standard_normal(X.shape)
    return X[:, :, None], y


def gru_units_for(n_params: int, n_inputs: int, n_classes: int) -> int:
    """Hidden size whose Keras GRU (+ dense softmax) has about n_params parameters."""

    def count(h):
        return 3 * (h * (n_inputs + h) + 2 * h) + h * n_classes + n_classes

    return min(range(1, 512), key=lambda h: abs(count(h) - n_params))


def time_tt(X, y, epochs, batch_size):
    clf = TTNetworkClassifier(
        rank=8, n_features=8, batch_size=batch_size, max_iter=1, dtype="float32", random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)  # compile (tf.function tracing) outside the timing
        clf.set_params(warm_start=True, max_iter=epochs, n_iter_no_change=epochs + 1)
        start = time.perf_counter()
        clf.fit(X, y)
        seconds = time.perf_counter() - start
    return len(y) * epochs / seconds, clf.network_.n_params


def time_gru(X, y, epochs, batch_size, units):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=X.shape[1:]),
            keras.layers.GRU(units),
            keras.layers.Dense(int(y.max()) + 1),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(5e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    Xf = X.astype("float32")
    model.fit(Xf, y, batch_size=batch_size, epochs=1, verbose=0)  # compile
    start = time.perf_counter()
    model.fit(Xf, y, batch_size=batch_size, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    return len(y) * epochs / seconds, model.count_params()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    ok = True
    for name, (X, y) in [
        ("digits 16x(2x2)", digits_sequences()),
        ("generated d=40", generated_sequences()),
    ]:
        tt_rate, tt_params = time_tt(X, y, args.epochs, args.batch_size)
        units = gru_units_for(tt_params, X.shape[2], int(y.max()) + 1)
        gru_rate, gru_params = time_gru(X, y, args.epochs, args.batch_size, units)
        ratio = tt_rate / gru_rate
        ok &= ratio >= TARGET
        print(
            f"{name}: TTNetworkClassifier {tt_rate:,.0f} samples/s ({tt_params} params), "
            f"Keras GRU({units}) {gru_rate:,.0f} samples/s ({gru_params} params), "
            f"ratio {ratio:.1f}x (target >= {TARGET:.0f}x): "
            f"{'PASS' if ratio >= TARGET else 'FAIL'}"
        )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
