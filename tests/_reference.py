"""Independent slow paths: networks evaluated one sample at a time with plain numpy
and Python scalars, straight from the formulas of docs/theory.md sections 1 and 3."""

from __future__ import annotations

import numpy as np

XI = {
    "product": lambda x, y: x * y,
    "relu_max": lambda x, y: max(x, y, 0.0),
    "relu_sum": lambda x, y: max(x, 0.0) + max(y, 0.0),
    "softplus": lambda x, y: float(np.logaddexp(x, y)),
    "max": lambda x, y: max(x, y),
}
UNIT = {"product": 1.0, "relu_max": 0.0, "relu_sum": 0.0, "softplus": None, "max": None}


def features(net, x):
    return np.asarray(net.feature_map(np.asarray(x, dtype=float)[None, :]))[0]


def cp_score(net, X):
    xi = XI[net.xi.name]
    out = np.zeros(net.n_outputs)
    for a in range(net.rank):
        vals = [float(features(net, X[k]) @ net.factors[k][:, a]) for k in range(net.d)]
        acc = vals[0]
        for v in vals[1:]:
            acc = xi(acc, v)
        out += net.weights[a] * acc
    return out


def tt_score(net, X):
    xi, unit = XI[net.xi.name], UNIT[net.xi.name]
    h = None
    for t in range(net.d):
        f = features(net, X[t])
        a = f if net.matrices is None else net.matrices[t] @ f
        core = net.cores[t]
        r_prev, L, r_next = core.shape
        new = np.zeros(r_next)
        for k in range(r_next):
            for i in range(L):
                for j in range(r_prev):
                    if h is None:
                        value = a[i] if unit is None else xi(a[i], unit)
                    else:
                        value = xi(a[i], h[j])
                    new[k] += core[j, i, k] * value
        h = new
    return h


def ht_score(net, X):
    xi, tree = XI[net.xi.name], net.tree
    phi = {}
    for node in range(tree.n_nodes):
        children = tree.children(node)
        if children is None:
            phi[node] = features(net, X[tree.modes(node)[0]]) @ net.factors[node]
            continue
        B = net.factors[node]
        left, right = phi[children[0]], phi[children[1]]
        out = np.zeros(B.shape[2])
        for c in range(B.shape[2]):
            for a in range(B.shape[0]):
                for b in range(B.shape[1]):
                    out[c] += B[a, b, c] * xi(left[a], right[b])
        phi[node] = out
    return phi[tree.root]


def score(net, X):
    return {"cp": cp_score, "tt": tt_score, "ht": ht_score}[net.kind](net, X)


def coefficient_tensor(net):
    """W of a product network by explicit numpy contractions of its parameters."""
    m, d = net.n_features, net.d
    if net.kind == "cp":
        W = 0
        for a in range(net.rank):
            term = net.factors[0][:, a]
            for k in range(1, d):
                term = np.multiply.outer(term, net.factors[k][:, a])
            W = W + np.multiply.outer(term, net.weights[a])
    elif net.kind == "tt":
        W = np.ones((1, 1))  # (prefix, rank)
        for t in range(d):
            core = net.cores[t]
            if net.matrices is not None:
                core = np.einsum("jik,im->jmk", core, net.matrices[t])
            W = np.einsum("pj,jmk->pmk", W, core).reshape(-1, core.shape[2])
        W = W.reshape((m,) * d + (net.n_outputs,))
    else:
        # every entry from the definition: sum over all internal indices by recursion
        tree = net.tree

        def node_tensor(node):
            children = tree.children(node)
            if children is None:
                return net.factors[node]  # (m, r)
            lt, rt = node_tensor(children[0]), node_tensor(children[1])
            B = net.factors[node]
            full = np.einsum("...a,abc->...bc", lt, B)
            full = np.einsum("...bc,Qb->...Qc", full, rt.reshape(-1, rt.shape[-1]))
            return full.reshape(lt.shape[:-1] + rt.shape[:-1] + (B.shape[2],))

        W = node_tensor(tree.root)
        W = W.reshape((m,) * d + (net.n_outputs,))
        W = np.transpose(W, tuple(np.argsort(tree.mode_order)) + (d,))
    return W[..., 0] if net.n_outputs == 1 else W
