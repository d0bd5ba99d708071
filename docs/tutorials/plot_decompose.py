"""
Decompose your own tensor in CP, TT and HT
==========================================

tensorexpr decomposes any tensor in the three formats of the networks it studies, with a rank
or with a relative error tolerance, through TensorLy's backend functions: the same calls run
on numpy, pytorch, jax or tensorflow tensors. This tutorial

1. builds a tensor (a smooth function sampled on a grid),
2. compresses it with :func:`tensorexpr.tt_svd`, :func:`tensorexpr.ht_svd` and
   :func:`tensorexpr.cp` at several tolerances and compares the sizes,
3. converts and rounds between formats,
4. repeats the decompositions on the pytorch backend.
"""

# %%
# A tensor to decompose
# ---------------------
# :math:`T[i_1, \dots, i_5] = 1 / (1 + x_{i_1} + \dots + x_{i_5})` on 6 points per mode:
# 7776 entries, full rank in every unfolding, but with fast-decaying singular values.
import time

import matplotlib.pyplot as plt
import numpy as np
import tensorly as tl

import tensorexpr as te

te.set_backend("numpy")
x = np.linspace(0.0, 1.0, 6)
T = 1.0 / (1.0 + sum(np.meshgrid(*[x] * 5, indexing="ij")))
print("shape:", T.shape, " entries:", T.size)


def rel_error(approx):
    return float(np.linalg.norm(T - tl.to_numpy(approx)) / np.linalg.norm(T))


# %%
# TT and HT with a tolerance
# --------------------------
# ``tol`` is a relative Frobenius error target: the result satisfies
# :math:`\|T - \tilde T\| \le \mathrm{tol}\,\|T\|` with ranks as small as the truncated SVDs
# allow. An :class:`tensorexpr.HTTensor` lives on a dimension tree (balanced by default).
for tol in (1e-2, 1e-4, 1e-6):
    tt = te.tt_svd(T, tol=tol)
    ht = te.ht_svd(T, tol=tol)
    n_tt = sum(int(np.prod(core.shape)) for core in tt.factors)
    print(
        f"tol {tol:.0e}:  TT ranks {tt.rank}, {n_tt:5d} numbers, error "
        f"{rel_error(tt.to_tensor()):.1e}  |  HT ranks {ht.ranks}, {ht.n_params:5d} numbers, "
        f"error {rel_error(ht.to_tensor()):.1e}"
    )

# %%
# The dimension tree of the HT format can be chosen: a linear tree puts one mode at each level.
ht_linear = te.ht_svd(T, tree=te.DimensionTree.linear(5), tol=1e-4)
print("linear tree:", ht_linear)

# %%
# CP with a rank
# --------------
# The CP format has no SVD-based algorithm: :func:`tensorexpr.cp` runs alternating least
# squares from several starts and keeps the best; :func:`tensorexpr.cp_rank` finds the smallest
# rank whose fit meets a tolerance.
for rank in (1, 2, 3):
    fit = te.cp(T, rank=rank, random_state=0)
    cp_tensor, err = fit.cp_tensor, fit.relative_error
    print(f"CP rank {rank}: relative error {err:.1e}")
found = te.cp_rank(T, tol=1e-2, random_state=0)
print(f"smallest CP rank with error <= 1e-2: {found.rank} (error {found.relative_error:.1e})")

# %%
# Error against size
# ------------------
# The number of stored values needed for a given accuracy, in each format.
sizes = {"TT": [], "HT": [], "CP": []}
for tol in (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 1e-4, 1e-5):
    tt = te.tt_svd(T, tol=tol)
    sizes["TT"].append((sum(int(np.prod(c.shape)) for c in tt.factors), rel_error(tt.to_tensor())))
    ht = te.ht_svd(T, tol=tol)
    sizes["HT"].append((ht.n_params, rel_error(ht.to_tensor())))
for rank in (1, 2, 3, 4):
    fit = te.cp(T, rank=rank, n_restarts=1, random_state=0)
    cp_tensor, err = fit.cp_tensor, fit.relative_error
    sizes["CP"].append((rank * sum(T.shape), err))

fig, ax = plt.subplots(figsize=(6, 3.5))
for name, points in sizes.items():
    ax.loglog(*zip(*sorted(points), strict=True), "o-", label=name)
ax.set_xlabel("numbers stored")
ax.set_ylabel("relative error")
ax.set_title("Compressing 1 / (1 + x1 + ... + x5), 6^5 entries")
ax.legend()
fig.tight_layout()

# %%
# Converting and rounding
# -----------------------
# TT and HT tensors convert into each other without forming the full tensor, and a
# decomposition can be truncated further (rounded) on its factors.
tt = te.tt_svd(T, tol=1e-8)
ht = te.tt_to_ht(tt)
back = te.ht_to_tt(ht)
print("TT -> HT -> TT error:", rel_error(back.to_tensor()))
print("TT ranks before/after rounding to 1e-3:", tt.rank, te.tt_round(tt, tol=1e-3).rank)
print("HT ranks after rounding to 1e-3:", te.ht_round(ht, tol=1e-3).ranks)

# %%
# The same calls on pytorch
# -------------------------
# :func:`tensorexpr.set_backend` switches tensorexpr and TensorLy together; the decompositions
# then take and return torch tensors. CP's alternating least squares is run once here with
# few iterations, as it is slow on small torch tensors.
te.set_backend("pytorch")
T_torch = tl.tensor(T)
start = time.perf_counter()
tt_torch = te.tt_svd(T_torch, tol=1e-4)
ht_torch = te.ht_svd(T_torch, tol=1e-4)
fit = te.cp(T_torch, rank=3, n_restarts=1, max_iter=20, random_state=0)
cp_torch, err_torch = fit.cp_tensor, fit.relative_error
print(f"pytorch ({time.perf_counter() - start:.1f} s): cores are {type(tt_torch.factors[0])}")
print("TT ranks", tt_torch.rank, "error", rel_error(tt_torch.to_tensor()))
print("HT ranks", ht_torch.ranks, "error", rel_error(ht_torch.to_tensor()))
print(f"CP rank 3 error {err_torch:.1e}")
print("same TT ranks as numpy:", tt_torch.rank == te.tt_svd(T, tol=1e-4).rank)
te.set_backend("numpy")
