"""
How wide must a shallow network be?
===================================

A recurrent (TT) network with small ranks can compute a score function that any shallow
(CP) network needs an exponentially large width to reproduce ([K18] Theorem 1). This
tutorial checks the theorem on random TT-networks:

1. build a TT-network and its grid tensor on templates,
2. compute the rank of the odd/even matricization, a lower bound on the width of any
   equivalent shallow network,
3. compare it with the bound :math:`q^{d/2}`, :math:`q = \\min(m, r)`, of the theorem.

See :doc:`/theory` for the mathematics.
"""

# %%
# A TT-network and its grid tensor
# --------------------------------
# The feature map is the identity on :math:`\mathbb{R}^4` (so :math:`m = n = 4`), and the
# network has :math:`d = 6` positions and TT-ranks 3. On :math:`M = 4` templates in general
# position the feature matrix :math:`F` is invertible, so the grid tensor
# :math:`\Gamma(\ell) = W \times_1 F \cdots \times_d F` has the same matricization ranks as
# the coefficient tensor :math:`W`.
import matplotlib.pyplot as plt
import numpy as np

import tensorexpr as te

d, m, r = 6, 4, 3
f = te.LinearFeatures.identity(m)
net = te.TTNetwork.random(d, f, rank=r, random_state=0)
templates = np.random.default_rng(0).standard_normal((m, m))  # M = 4 templates in R^4

grid = net.grid_tensor(templates)  # dense (M,)*d tensor, from the TT cores
structured = net.grid_tensor(templates, structured=True)  # the same, as a TT tensor
print("network:", net)
print("grid tensor shape:", tuple(grid.shape))
print("TT-ranks of the grid tensor:", structured.rank)

# %%
# The grid tensor agrees with evaluating the network on every tuple of templates; check a
# few entries against ``net(X)``.
rng = np.random.default_rng(1)
index = rng.integers(0, m, size=(5, d))
X = templates[index]  # (5, d, n): five sequences of templates
print(np.allclose(net(X), grid[tuple(index.T)]))

# %%
# The rank of a matricization bounds the shallow width
# ----------------------------------------------------
# Rows indexed by the odd modes, columns by the even modes: the rank of this
# :math:`M^{d/2} \times M^{d/2}` matrix is a lower bound on the CP-rank, that is on the
# width of a shallow network with the same grid tensor.
mr = te.matricization_rank(grid, row_modes="odd")
print(f"odd/even matricization rank: {mr.rank} (tolerance {mr.atol:.1e})")
print(f"Theorem 1 bound q^(d/2) = {min(m, r) ** (d // 2)}")

bound = te.shallow_width_lower_bound(net, templates)
print(f"certified: an equivalent shallow network needs width >= {bound.bound}")

# %%
# The singular values show why the rank can be trusted: a gap of many orders of
# magnitude separates the ones that count from rounding noise.
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(mr.singular_values, "o", ms=3)
ax.axhline(mr.atol, color="k", ls="--", lw=1, label="tolerance")
ax.set_xlabel("index")
ax.set_ylabel("singular value")
ax.set_title("Odd/even matricization of the grid tensor")
ax.legend()
fig.tight_layout()

# %%
# Theorem 1 across ranks and lengths
# ----------------------------------
# For each TT-rank and each even length, the rank of a random TT-network's matricization
# never falls below :math:`q^{d/2}` (the theorem holds outside a set of measure zero,
# and random networks miss it with probability one).
rows = []
for d in (2, 4, 6):
    for r in (1, 2, 3, 4):
        net = te.TTNetwork.random(d, f, rank=r, random_state=d * 10 + r)
        rank = te.matricization_rank(net, "odd").rank  # on W, no templates needed
        rows.append((d, r, rank, min(m, r) ** (d // 2)))
        print(f"d={d} r={r}: rank {rank:3d} >= q^(d/2) = {min(m, r) ** (d // 2):3d}")
assert all(rank >= q for _, _, rank, q in rows)

fig, ax = plt.subplots(figsize=(6, 3.5))
for d in (2, 4, 6):
    sel = [(r, rank, q) for dd, r, rank, q in rows if dd == d]
    (line,) = ax.semilogy([s[0] for s in sel], [s[1] for s in sel], "o-", label=f"d={d}")
    ax.semilogy([s[0] for s in sel], [s[2] for s in sel], "--", color=line.get_color())
ax.set_xlabel("TT-rank r")
ax.set_ylabel("shallow width lower bound")
ax.set_title("matricization rank (solid) vs q^(d/2) (dashed)")
ax.legend()
fig.tight_layout()

# %%
# Widths between all three network types
# --------------------------------------
# :func:`tensorexpr.width_conversion_bounds` gives the table of [K18] (docs/theory.md section
# 5.2): the width a network of one type needs to equal a network of width ``r`` of another
# type.
table = te.width_conversion_bounds(r=4, d=8)
for needed, row in table.items():
    cells = [
        f"{given}: {'' if cell.exact else '>='}{cell.value} ({cell.formula})"
        for given, cell in row.items()
    ]
    print(f"{needed.upper()} needs  " + ";  ".join(cells))

# %%
# When :func:`tensorexpr.shallow_width_lower_bound` reports a width ``N`` for a network, no
# shallow network narrower than ``N`` has the same grid tensor. The gap is exponential in the
# length: a TT-network of width 4 on 8 positions needs a shallow width of at least
# ``4^4 = 256``, while the converse direction costs nothing (``CP -> TT``: width ``r``).
