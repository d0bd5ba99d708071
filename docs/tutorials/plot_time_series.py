"""
Real time series as they come: GunPoint from aeon
=================================================

The UCR archive's GunPoint set ships inside `aeon <https://www.aeon-toolkit.org>`_ with its
official split: 50 training and 150 test series of 150 steps, stored as aeon and sktime store
every collection, ``(n_series, n_channels, n_timepoints)``. This tutorial feeds them to a
TT-network classifier exactly as loaded: no scaler, no reshaping, every parameter at its
default. :class:`estimators.SequenceWindows` reads aeon's layout, cuts each series into about
20 overlapping windows (its ``"auto"`` window and stride follow the length), and the
classifier standardizes its inputs with statistics fitted on the training set, so raw units
of any size train alike.
"""

# %%
# The data, as aeon loads it
# --------------------------
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from aeon.datasets import load_gunpoint
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from estimators import SequenceWindows, TTNetworkClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)
X_train, y_train = load_gunpoint(split="train")
X_test, y_test = load_gunpoint(split="test")
print("train:", X_train.shape, " test:", X_test.shape, " classes:", np.unique(y_train))

windows = SequenceWindows().fit(X_train)
print(
    f"SequenceWindows(): {windows.n_windows_} windows of {windows.window_} steps "
    f"(stride {windows.stride_}), {windows.window_dim_} values per position"
)

# %%
# The pipeline at its defaults
# ----------------------------
# The windows come out 3-D, ``(n_series, positions, values)``, so the classifier needs no
# ``n_inputs``. We fit five seeds to show the spread, not one lucky run.
accuracies, seconds = [], []
for seed in range(5):
    model = make_pipeline(SequenceWindows(), TTNetworkClassifier(random_state=seed))
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds.append(time.perf_counter() - start)
    accuracies.append(model.score(X_test, y_test))
print("TT-network test accuracy per seed:", np.round(accuracies, 3))
print(
    f"mean {np.mean(accuracies):.3f}, min {np.min(accuracies):.3f}, "
    f"median fit {np.median(seconds):.1f} s; training accuracy {model.score(X_train, y_train):.3f}"
)

# %%
# A baseline on the same split: logistic regression on the standardized raw series.
logistic = make_pipeline(
    FunctionTransformer(lambda X: X.reshape(len(X), -1)),
    StandardScaler(),
    LogisticRegression(max_iter=2000),
).fit(X_train, y_train)
print(f"LogisticRegression: {logistic.score(X_test, y_test):.3f}")

# %%
# Units do not matter
# -------------------
# The statistics are fitted in ``fit``: an affine change of units on train and test leaves the
# standardized inputs, and so the model, as they were.
shifted = make_pipeline(SequenceWindows(), TTNetworkClassifier(random_state=0))
shifted.fit(1000 * X_train + 50, y_train)
print(f"after X -> 1000 X + 50: {shifted.score(1000 * X_test + 50, y_test):.3f}")

# %%
# Series of unequal lengths
# -------------------------
# aeon stores unequal-length collections as a list of ``(n_channels, n_timepoints_i)``
# arrays. ``SequenceWindows`` resamples each to the longest training length by linear
# interpolation, so the same pipeline takes them.
rng = np.random.default_rng(0)
ragged_train = [x[:, : rng.integers(100, 151)] for x in X_train]
ragged_test = [x[:, : rng.integers(100, 151)] for x in X_test]
ragged = make_pipeline(SequenceWindows(), TTNetworkClassifier(random_state=0))
ragged.fit(ragged_train, y_train)
print(f"cut to 100-150 steps at random: {ragged.score(ragged_test, y_test):.3f}")

# %%
# What the network reads
# ----------------------
# Two training series of each class and the first windows of one of them.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
for label, color in zip(np.unique(y_train), ("C0", "C1"), strict=True):
    for series in X_train[y_train == label][:2]:
        axes[0].plot(series[0], color=color, alpha=0.8, label=f"class {label}")
handles, labels = axes[0].get_legend_handles_labels()
axes[0].legend(dict(zip(labels, handles, strict=True)).values(), dict.fromkeys(labels), fontsize=9)
axes[0].set_xlabel("time step", fontsize=10)
axes[0].set_title("GunPoint series (as loaded)", fontsize=11)
first = windows.transform(X_train[:1])[0]
for k in range(4):
    start = k * windows.stride_
    axes[1].plot(np.arange(start, start + windows.window_), first[k] + 0.5 * k, "o-", ms=3)
axes[1].set_xlabel("time step", fontsize=10)
axes[1].set_title("the first 4 windows (offset for reading)", fontsize=11)
fig.tight_layout()
plt.show()
