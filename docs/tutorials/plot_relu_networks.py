"""
Generalized ReLU networks: universality and the limits of depth efficiency
==========================================================================

Replacing the product in a tensor network by a rectifier-like operator turns it into a ReLU
network ([CS16], [K19]): with the operator max(x, y, 0) a recurrent (TT) network is a ReLU
RNN and a shallow (CP) network a one-layer ReLU network with max pooling.

In formulas, the operator :math:`\\xi(x, y) = \\max(x, y, 0)` takes the place of the product
:math:`xy`. This tutorial shows, on grid tensors computed exactly by tensorexpr:

1. how a generalized network computes its grid tensor,
2. universality: max pooling reaches any tensor, average pooling does not ([K19] Thm 5.1,
   [CS16]),
3. a generalized ReLU RNN that every shallow ReLU network must be wide to copy
   ([K19] Thm 5.2),
4. why this depth efficiency is not complete: many random ReLU RNNs have a shallow
   equivalent of width 1 ([K19] Thm 5.3 and Fig. 3).
"""

# %%
# A generalized RNN and its grid tensor
# -------------------------------------
# ``xi="relu_max"`` builds the generalized network. Its grid tensor is no longer a TT tensor:
# tensorexpr computes it densely, by the recursion of docs/theory.md section 3, over
# :math:`M` templates (here the one-hot vectors of :math:`\mathbb{R}^M`).
import matplotlib.pyplot as plt
import numpy as np

import tensorexpr as te
from tensorexpr.experiments.theorem5_2 import witness_grid, witness_rnn
from tensorexpr.experiments.universality import additive_floor

M, d = 3, 4
f = te.LinearFeatures.identity(M)
templates = np.eye(M)
relu_rnn = te.TTNetwork.random(d, f, rank=2, xi="relu_max", random_state=0)
grid = relu_rnn.grid_tensor(templates)
print(relu_rnn)
print("operator:", te.get_operator("relu_max").name, " grid tensor shape:", grid.shape)

# %%
# As for product networks, the grid tensor holds the network's values on all
# :math:`M^d` sequences of templates:
index = np.random.default_rng(0).integers(0, M, size=(4, d))
print(np.allclose(relu_rnn(templates[index]), grid[tuple(index.T)]))

# %%
# Universality needs max pooling
# ------------------------------
# A generalized shallow network is
# :math:`\ell(X) = \sum_a \lambda_a\, \xi(\langle f(x_1), v_{1,a}\rangle, \dots,
# \langle f(x_d), v_{d,a}\rangle)`. We fit shallow networks of width :math:`M^d + 1`
# to a random tensor with :func:`tensorexpr.fit_generalized` (gradient descent on the grid
# tensor). With :math:`\xi = \max(x, y, 0)` the error goes to zero; with average pooling
# :math:`\xi = \max(x, 0) + \max(y, 0)` every network is a sum of functions of one position
# each, and no width gets below the distance to those "additive" tensors.
target = np.random.default_rng(1).standard_normal((M,) * 3)
fits = {
    xi: te.fit_generalized(target, "cp", rank=M**3 + 1, xi=xi, max_iter=1500, random_state=0)
    for xi in ("relu_max", "relu_sum")
}
for xi, fit in fits.items():
    print(f"{xi:9s} width {M**3 + 1}: relative error {fit.relative_error:.2e}")
print(f"distance to additive tensors (relu_sum floor): {additive_floor(target):.3f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
for xi, fit in fits.items():
    ax.semilogy(fit.history, label=f"xi = {xi}")
ax.axhline(additive_floor(target), color="k", ls="--", lw=1, label="additive floor")
ax.set_xlabel("Adam step")
ax.set_ylabel("relative error")
ax.set_title(f"Shallow ReLU networks fitting a random {M}x{M}x{M} tensor")
ax.legend()
fig.tight_layout()

# %%
# A ReLU RNN that shallow networks must be wide to copy
# -----------------------------------------------------
# The score "0 if :math:`x_1 = x_2, x_3 = x_4, \dots`, else 1" is computed by a ReLU RNN with
# ranks :math:`\le M`. Its odd/even matricization is :math:`J - I`, of rank
# :math:`M^{d/2}`, while one max-pooling term has rank at most :math:`M d / 2` there: a
# shallow ReLU network needs width at least :math:`\lceil M^{d/2} / (M d / 2) \rceil`.
for M_, d_ in ((3, 4), (4, 4), (3, 6), (4, 6)):
    witness = witness_rnn(M_, d_)
    grid = witness.grid_tensor(np.eye(M_))
    assert np.array_equal(grid, witness_grid(M_, d_))
    bound = te.shallow_width_lower_bound(witness, templates=np.eye(M_))
    print(
        f"M={M_} d={d_}: RNN ranks <= {max(witness.ranks)}, matricization rank {bound.rank} "
        f"(M^(d/2) = {M_ ** (d_ // 2)}), term rank {bound.term_rank}, "
        f"shallow width >= {bound.bound}"
    )

# %%
# The bound grows like :math:`2 M^{d/2 - 1} / d`: exponentially in the length, but from a
# small base for short sequences.

# %%
# Depth efficiency is not complete
# --------------------------------
# For product networks, almost every TT-network needs an exponentially wide shallow
# equivalent. Not so with ReLU: [K19] shows that a whole open set of ReLU RNNs, of any rank, is
# realised by a shallow network of width 1. The certified lower bound of random ReLU RNNs
# stays small, and is often 1 (the certificate then leaves room for a width-1 equivalent);
# the fraction of such networks drops as the rank grows (compare the figure of
# ``tensorexpr reproduce fig3`` in :doc:`/reproduced`).
M, d = 4, 4
bounds = {}
for R in (1, 2, 4):
    bounds[R] = [
        te.shallow_width_lower_bound(
            te.TTNetwork.random(
                d, te.LinearFeatures.identity(M), rank=R, xi="relu_max", random_state=100 * R + s
            ),
            templates=np.eye(M),
        ).bound
        for s in range(30)
    ]
    print(
        f"R={R}: fraction with bound 1: {np.mean(np.array(bounds[R]) == 1):.2f}, "
        f"largest bound {max(bounds[R])}"
    )

fig, axes = plt.subplots(1, 3, figsize=(9, 3), sharey=True)
for ax, (R, values) in zip(axes, bounds.items(), strict=True):
    ax.hist(values, bins=np.arange(0.5, max(max(v) for v in bounds.values()) + 1.5))
    ax.set_xticks(range(1, max(max(v) for v in bounds.values()) + 1))
    ax.set_title(f"R = {R}")
    ax.set_xlabel("shallow width bound")
axes[0].set_ylabel("networks (of 30)")
fig.suptitle(f"Random ReLU RNNs, M = {M}, d = {d}")
fig.tight_layout()

# %%
# Which random networks does [K19] Figure 3 describe?
# ---------------------------------------------------
# [K19] reports rank-1 shallow equivalents for every R, rarer as R grows, but does not say how
# its random networks are drawn. :func:`tensorexpr.experiments.fig3.run` takes the sampling
# distribution as a parameter. Signed weights (Gaussian, uniform on [-1, 1]) reproduce the
# trend; non-negative ones (uniform on [0, 1], :math:`|N(0, 1)|`) make every max pick the
# hidden state and the networks collapse to width 1 more often as R grows.
from tensorexpr.experiments import fig3  # noqa: E402

sweep = fig3.run(quick=True, n_samples=20, input_matrices=(True,))
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, verdict in sweep.summary["variants"].items():
    Rs = [int(R) for R in verdict["fraction_bound_1"]]
    mark = " (reproduces [K19])" if verdict["reproduces_paper"] else ""
    ax.plot(Rs, list(verdict["fraction_bound_1"].values()), "o-", label=name + mark)
ax.set_xscale("log", base=2)
ax.set_xticks(Rs, [str(R) for R in Rs])
ax.set_xlabel("TT-rank R")
ax.set_ylabel("fraction with bound 1")
ax.set_title("Random ReLU RNNs (M = 4, d = 4): may a width-1 network copy them?")
ax.legend(fontsize=7)
fig.tight_layout()

# %%
# Certified bounds beyond dense sizes
# -----------------------------------
# A lower bound on a rank needs only a submatrix: ``method="submatrix"`` evaluates the
# network on the template tuples of chosen rows and columns and counts the singular values
# above a rigorous floating-point margin (:doc:`/theory`, section 4.4). The certificate can be
# re-checked from the score function alone. Here the witness of [K19] Thm 5.2 at
# :math:`d = 10` (a grid of :math:`4^{10}` entries):
witness = witness_rnn(4, 10)
found = te.shallow_width_lower_bound(witness, templates=np.eye(4), method="submatrix")
cert = found.certificate
print(
    f"rank >= {found.rank} from a {cert.shape[0]} x {cert.shape[1]} submatrix "
    f"(smallest counted singular value {cert.sigma:.3g}, margin {cert.margin:.2g}): "
    f"shallow ReLU width >= {found.bound}"
)
check = te.verify_width_certificate(witness, np.eye(4), cert)
print("verified from the score function alone:", bool(check))
