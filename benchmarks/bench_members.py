"""Several members against one network, at the defaults otherwise (one run, same splits).

``n_members=K`` trains K networks side by side on one feature map and averages their
scores (docs/estimators.md, "members"). This run compares, on the UCR/UEA sets that ship
inside aeon (official splits, series as loaded, ``make_pipeline(SequenceWindows(), ...)``),
one TTNetworkClassifier network of rank 24 (``n_members=1``) with 4 members of rank 8 and
of rank 24, over the same seeds: test accuracy mean and min, training accuracy, median fit.
``--network ht``: HTNetworkClassifier at its defaults (4 members of rank 8 on these small
sets) against members of rank 12 and against 8 members (does more capacity close HT's
gap on GunPoint?).

Run (the ``bench`` extra plus aeon)::

    python benchmarks/bench_members.py [--network tt|ht] [--seeds 0 1 2 3 4] [--sets GunPoint ...]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from bench_series import load  # noqa: E402  (this folder: the official splits, as loaded)
from sklearn.pipeline import make_pipeline  # noqa: E402

from estimators import HTNetworkClassifier, SequenceWindows, TTNetworkClassifier  # noqa: E402

#: per network: the classifier and its (label, arguments besides random_state)
CONFIGS = {
    "tt": (
        TTNetworkClassifier,
        (
            ("default (1 x rank 24)", {"n_members": 1}),
            ("4 members x rank 8", {"n_members": 4, "rank": 8}),
            ("4 members x rank 24", {"n_members": 4, "rank": 24}),
        ),
    ),
    "ht": (
        HTNetworkClassifier,
        (
            ("default (4 x rank 8)", {}),
            ("4 members x rank 12", {"rank": 12}),
            ("8 members x rank 8", {"n_members": 8}),
        ),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument(
        "--sets", nargs="+", default=["GunPoint", "ItalyPowerDemand", "BasicMotions"]
    )
    parser.add_argument("--network", choices=sorted(CONFIGS), default="tt")
    args = parser.parse_args()
    classifier, configs = CONFIGS[args.network]
    warnings.simplefilter("ignore")
    print(f"seeds {args.seeds}; official splits; series as loaded (n, channels, time)")
    print(f"{'set':18s} {'model':24s} {'mean':>6s} {'min':>6s} {'train':>6s} {'fit s':>6s}")
    for name in args.sets:
        X, y, Xt, yt = load(name)
        for label, kwargs in configs:
            acc, train, secs = [], [], []
            for seed in args.seeds:
                model = make_pipeline(SequenceWindows(), classifier(random_state=seed, **kwargs))
                start = time.perf_counter()
                model.fit(X, y)
                secs.append(time.perf_counter() - start)
                acc.append(model.score(Xt, yt))
                train.append(model.score(X, y))
            print(
                f"{name:18s} {label:24s} {np.mean(acc):6.3f} {np.min(acc):6.3f} "
                f"{np.mean(train):6.3f} {np.median(secs):6.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
