"""TTNetworkClassifier on series with chosen SequenceWindows / estimator settings (one run).

Each job is ``[set, seed, SequenceWindows kwargs, TTNetworkClassifier kwargs]``; the sets are
bench_series.py's (aeon's official splits, MNIST-1D generated) plus aeon's OSULeaf (T 427),
ACSF1 (T 1460) and ArrowHead (T 251). The windows sweep of docs/estimators.md ran as::

    python benchmarks/sweep_series_settings.py \
        '[["MNIST1D-640", 0, {"window": 32, "stride": 16}, {}], ["ACSF1", 0, {}, {}]]'

Raw output: benchmarks/results/sweep_series_windows.txt.
"""

import json
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_series import load as _load  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from estimators import SequenceWindows, TTNetworkClassifier  # noqa: E402


def load(name):
    """(X, y, X_test, y_test) of a set, aeon's layout and official split."""
    if name in ("OSULeaf", "ACSF1", "ArrowHead"):
        import aeon.datasets as D

        loaders = {"OSULeaf": D.load_osuleaf, "ACSF1": D.load_acsf1}
        loaders["ArrowHead"] = D.load_arrow_head
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # aeon 1.6 deprecates the shipped copies
            X, y = loaders[name](split="train")
            Xt, yt = loaders[name](split="test")
        return X, y, Xt, yt
    return _load(name)


def main():
    jobs = json.loads(sys.argv[1])
    cache = {}
    for name, seed, wk, tk in jobs:
        if name not in cache:
            cache[name] = load(name)
        X, y, Xt, yt = cache[name]
        m = make_pipeline(SequenceWindows(**wk), TTNetworkClassifier(random_state=seed, **tk))
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(X, y)
        seconds = time.perf_counter() - t
        acc, train = m.score(Xt, yt), m.score(X, y)
        print(
            f"{name} seed {seed} {wk} {tk}: {acc:.3f} (train {train:.3f}, {seconds:.1f} s, "
            f"{m[-1].n_iter_} it)",
            flush=True,
        )


if __name__ == "__main__":
    main()
