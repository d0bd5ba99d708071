"""CPNetworkClassifier with share_cores on or off, at the other defaults (one run, 5 seeds).

The UCR sets of bench_series.py (aeon, official splits, ``make_pipeline(SequenceWindows(),
CPNetworkClassifier(share_cores=...))``), MNIST-1D of 160 / 640 steps, and digits as 16
patches of 2x2 (bench_estimators.py's splits). Raw output: benchmarks/results/cp_shared.txt.

Run::

    python benchmarks/sweep_cp_shared.py 1 GunPoint,BasicMotions,ItalyPowerDemand,digits 0,1,2,3,4
"""

import os
import sys
import time
import warnings

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
from bench_estimators import digits_split as _digits  # noqa: E402
from bench_series import load  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from estimators import CPNetworkClassifier, SequenceWindows  # noqa: E402

share = sys.argv[1] == "1"
sets = sys.argv[2].split(",")
seeds = [int(s) for s in sys.argv[3].split(",")]
for name in sets:
    accs = []
    if name != "digits":
        X, y, Xt, yt = load(name)
    for seed in seeds:
        if name == "digits":
            _, (X, Xt), (y, yt) = _digits(seed)
            m = CPNetworkClassifier(share_cores=share, random_state=seed)
        else:
            m = make_pipeline(
                SequenceWindows(), CPNetworkClassifier(share_cores=share, random_state=seed)
            )
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(X, y)
        accs.append(m.score(Xt, yt))
        seconds = time.perf_counter() - t
        train = m.score(X, y)
        print(
            f"{name} CP share={share} seed {seed}: {accs[-1]:.3f}"
            f" (train {train:.3f}, {seconds:.1f} s)",
            flush=True,
        )
    print(f"== {name} share={share} mean {np.mean(accs):.3f} min {np.min(accs):.3f}", flush=True)
