"""CP, TT and Hierarchical Tucker decompositions with ranks or error tolerances.

Every function works on the current TensorLy backend (numpy, pytorch, jax, tensorflow), in
float32 and float64, through tensorly's backend functions only.
"""

from . import _dask  # noqa: F401  (registers the chunked forms; dask itself loads lazily)
from ._common import check_tt_rank, rank_from_singular_values
from ._completion import CompletionResult
from ._cp import CP, CPRankResult, CPResult, cp, cp_rank
from ._ht import HTSVD, ht_round, ht_svd, ht_to_tt, tt_to_ht
from ._ht_completion import cp_complete, ht_complete
from ._tt import TTSVD, tt_round, tt_svd
from ._tt_completion import tt_complete

__all__ = [
    "tt_svd",
    "tt_round",
    "TTSVD",
    "ht_svd",
    "ht_round",
    "tt_to_ht",
    "ht_to_tt",
    "HTSVD",
    "cp",
    "CPResult",
    "cp_rank",
    "CPRankResult",
    "CP",
    "tt_complete",
    "ht_complete",
    "cp_complete",
    "CompletionResult",
    # building blocks shared with cross/ (not exported by tensorexpr itself)
    "check_tt_rank",
    "rank_from_singular_values",
]
