"""Does more capacity close HTNetworkClassifier's gap on GunPoint? (docs/estimators.md)

HT at its defaults (4 members of rank 8 on these small sets) against members of rank 12
and against 8 members, on the three UCR sets of bench_series.py (aeon, official splits,
series as loaded through ``SequenceWindows``), 5 seeds, mean / min test accuracy and the
median fit time.

Run (the ``bench`` extra)::

    python benchmarks/sweep_ht_capacity.py [default rank12 members8]
"""

from __future__ import annotations

import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from bench_series import load  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from estimators import HTNetworkClassifier, SequenceWindows  # noqa: E402

CONFIGS = {"default": {}, "rank12": dict(rank=12), "members8": dict(n_members=8)}


def main(names):
    warnings.simplefilter("ignore")  # ConvergenceWarnings of single seeds: not measured here
    data = {s: load(s) for s in ("GunPoint", "ItalyPowerDemand", "BasicMotions")}
    for name in names:
        for s, (X, y, Xt, yt) in data.items():
            accs, times = [], []
            for seed in range(5):
                net = HTNetworkClassifier(random_state=seed, **CONFIGS[name])
                start = time.perf_counter()
                model = make_pipeline(SequenceWindows(), net).fit(X, y)
                times.append(time.perf_counter() - start)
                accs.append(model.score(Xt, yt))
            print(
                f"{name:10s} {s:17s} mean {np.mean(accs):.3f} min {np.min(accs):.3f} "
                f"fit median {np.median(times):.1f} s",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:] or list(CONFIGS))
