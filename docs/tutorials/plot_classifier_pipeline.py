"""
A TT-network classifier in a scikit-learn pipeline
==================================================

:class:`estimators.TTNetworkClassifier` is a recurrent (TT) tensor network trained by
TensorFlow that behaves like any scikit-learn classifier: it goes into a
:class:`~sklearn.pipeline.Pipeline`, under :class:`~sklearn.model_selection.GridSearchCV`,
and hands the trained model to tensorexpr as ``clf.network_``. This tutorial classifies
scikit-learn's 8x8 digits, fed to the network as a sequence of 2x2 patches
([K18] section 6 does the same with MNIST and 7x7 patches). The grid and the number of
epochs are small so that the example runs in seconds; raise them for real accuracy.
"""

# %%
# Data: images as sequences of patches
# ------------------------------------
# :class:`estimators.ImagePatches` cuts each 8x8 image into :math:`d = 16` patches of
# :math:`n = 4` pixels; the classifier reads each row as 16 positions of 4 values
# (``n_inputs=4``).
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from estimators import ImagePatches, TTNetworkClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=600, test_size=400, stratify=y, random_state=0
)
patches = ImagePatches(patch_size=2, image_shape=(8, 8)).fit(X_train)
print("patches per image:", patches.n_patches_, " values per patch:", patches.patch_dim_)

# %%
# The pipeline and the grid search
# --------------------------------
# Pixels are scaled to [0, 1], cut into patches and fed to the TT-network. The search is over
# the TT-rank (the width of the recurrent network) with two-fold cross-validation.
pipe = make_pipeline(
    FunctionTransformer(lambda X: X / 16.0),
    ImagePatches(patch_size=2, image_shape=(8, 8)),
    TTNetworkClassifier(
        n_inputs=4,
        n_features=6,
        max_iter=15,
        batch_size=50,
        learning_rate=1e-2,
        random_state=0,
    ),
)
# A few epochs do not converge; that is the point of a quick example.
warnings.filterwarnings("ignore", category=ConvergenceWarning)
search = GridSearchCV(pipe, {"ttnetworkclassifier__rank": [2, 6]}, cv=2)
start = time.perf_counter()
search.fit(X_train, y_train)
print(f"grid search: {time.perf_counter() - start:.1f} s")
for rank, score in zip(
    search.cv_results_["param_ttnetworkclassifier__rank"],
    search.cv_results_["mean_test_score"],
    strict=True,
):
    print(f"  rank {rank}: cross-validated accuracy {score:.3f}")
print("best:", search.best_params_, f" test accuracy {search.score(X_test, y_test):.3f}")

# %%
# The training curve of the refitted best model:
clf = search.best_estimator_[-1]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(np.arange(1, clf.n_iter_ + 1), clf.loss_curve_, "o-")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_title(f"TT-network classifier, rank {clf.rank}, on 8x8 digits")
fig.tight_layout()

# %%
# From the trained model to the theory
# ------------------------------------
# ``clf.network_`` is a tensorexpr network with the trained feature map: it computes the
# classifier's scores on the scaled inputs (``clf.standardize``), so grid tensors,
# matricization ranks and width bounds (:doc:`plot_shallow_width`) apply to it.
net = clf.network_
print(net)
X_seq = search.best_estimator_[:-1].transform(X_test[:5]).reshape(5, 16, 4)  # (batch, d, n)
scores = np.asarray(net(clf.standardize(X_seq)))  # standardized as in fit
print(
    "network_ scores equal decision_function:",
    np.allclose(scores, clf.decision_function(X_seq.reshape(5, -1)), atol=1e-4),
)
print("predicted:", clf.classes_[scores.argmax(axis=1)], " true:", y_test[:5])
