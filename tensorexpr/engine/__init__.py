"""The TensorFlow engine: evaluates and trains CP, TT and HT networks with any operator xi.

One implementation of the networks in TensorFlow, used by :func:`fit_generalized` (fitting a
grid tensor) and by the scikit-learn estimators (training on data):

- :class:`NetworkSpec` and the parameter layout, :func:`init_params`, :func:`to_network`
  (the equal :mod:`tensorexpr` network);
- :func:`scores` (a batch, with the log-scale state of docs/theory.md section 6) and
  :func:`grid` (the grid tensor), both through one contraction :func:`contract`;
- :class:`NetworkTrainer` (compiled epochs of ``keras.optimizers.Adam`` steps, their XLA
  inputs padded to :func:`bucket` sizes) and
  :func:`fit_generalized`;
- the TensorFlow forms of the building blocks, which hold none themselves:
  :func:`operator_form` and :func:`smoothed_form` (an operator xi), :func:`feature_form`
  (a feature map).

TensorFlow is imported when one of these runs, never when :mod:`tensorexpr` is imported
(see ``tensorexpr._tensorflow`` for the one environment default set before that import).
Compiled functions are kept in a bounded cache (:func:`clear_cache`).
"""

from .._tensorflow import import_tensorflow
from ..networks import KINDS
from ..networks.ht import node_name
from ._cache import MAX_ENTRIES, cache_size, cached, clear_cache
from ._evaluate import contract, grid, member_scores, scores
from ._fit_generalized import GeneralizedFit, fit_generalized
from ._forms import feature_form, operator_form, smoothed_form
from ._spec import (
    NetworkSpec,
    init_params,
    member_feature_index,
    member_spec,
    param_names,
    param_shapes,
    to_network,
)
from ._train import LOSSES, NetworkTrainer, bucket, network_trainer, scores_function

__all__ = [
    "KINDS",
    "LOSSES",
    "MAX_ENTRIES",
    "NetworkSpec",
    "NetworkTrainer",
    "GeneralizedFit",
    "bucket",
    "cache_size",
    "cached",
    "clear_cache",
    "contract",
    "feature_form",
    "fit_generalized",
    "grid",
    "import_tensorflow",
    "init_params",
    "member_scores",
    "member_spec",
    "member_feature_index",
    "network_trainer",
    "operator_form",
    "node_name",
    "param_names",
    "param_shapes",
    "scores",
    "scores_function",
    "smoothed_form",
    "to_network",
]
