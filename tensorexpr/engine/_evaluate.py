"""Scores and grid tensors of CP, TT and HT networks in TensorFlow, with any operator xi.

Two evaluations share one contraction, :func:`contract`
(``out[..., c] = sum_{a, b} W[a, b, c] xi(x[..., a], y[..., b])``):

- :func:`scores`: a batch of inputs, the network's recursion (docs/theory.md sections 1 and 3),
  with the running state kept in log scale (docs/theory.md section 6): every state is stored as
  ``h = exp(L) * u`` with ``u`` divided by its largest entry after each step and the log-norm
  ``L`` (one number per sample) carried on the side. For xi = product the recursion is linear
  in each argument; for a positively homogeneous xi both arguments are divided by the larger of
  their two scales before xi is applied. The score is ``exp(L) * u`` exactly, so hundreds of
  positions neither overflow nor vanish. The normalisers are constants for the gradient
  (``stop_gradient``): the rescaling cancels in the score. An operator that is not positively
  homogeneous (softplus) runs unrescaled.
- :func:`grid`: the dense grid tensor on a feature matrix F (M, m), by the grid recursions of
  docs/theory.md section 3 (the rows of a state are template tuples); used to fit grid tensors.

Nothing here goes through tensorly, so it works whatever ``tensorexpr.set_backend`` chose.
"""

from __future__ import annotations

import numpy as np

from .._tensorflow import import_tensorflow
from ..networks.ht import level_name, node_heights, node_name
from ..operators import Operator, get_operator
from ._forms import operator_form
from ._spec import NetworkSpec, member_spec

__all__ = ["contract", "scores", "member_scores", "grid", "RECURSIONS", "UNROLL_MAX"]

#: Longer trains run in a ``tf.scan`` loop instead of being unrolled into the graph.
UNROLL_MAX = 64


def contract(xi_fn, x, y, W):
    """``out[..., c] = sum_{a, b} W[a, b, c] xi(x[..., a], y[..., b])``.

    ``x`` (..., A) and ``y`` (..., B) broadcast against each other in their leading axes: the
    same rows for a batch of inputs, ``(P, 1, A)`` against ``(1, Q, B)`` for a grid.
    """
    tf = import_tensorflow()
    pair = xi_fn(tf.expand_dims(x, -1), tf.expand_dims(y, -2))  # (..., A, B)
    shape = tf.shape(pair)
    A, B = shape[-2], shape[-1]
    C = tf.shape(W)[-1]
    out = tf.matmul(tf.reshape(pair, [-1, A * B]), tf.reshape(W, [A * B, C]))
    return tf.reshape(out, tf.concat([shape[:-2], [C]], 0))


def _normalise(v, log_scale):
    """``v = exp(log_scale) * u`` with max |u| = 1 per row (0 stays 0); a gradient constant."""
    tf = import_tensorflow()
    top = tf.stop_gradient(tf.reduce_max(tf.abs(v), axis=-1))
    top = tf.where(top > 0, top, tf.ones_like(top))
    return v / tf.expand_dims(top, -1), log_scale + tf.math.log(top)


def _rescaled(op: Operator, combine, x, lx, y, ly):
    """``combine(e^lx x, e^ly y) = e^s combine(...)``; returns (value, s).

    ``combine`` is xi itself or a contraction through xi; ``lx``, ``ly`` are per sample.
    """
    tf = import_tensorflow()
    if op.is_product:
        return combine(x, y), lx + ly
    s = tf.maximum(lx, ly)
    return combine(
        x * tf.expand_dims(tf.exp(lx - s), -1), y * tf.expand_dims(tf.exp(ly - s), -1)
    ), s


def _fold(step, state, elems, unroll: bool):
    """Left fold ``state = step(state, elem)`` over the leading axis of the tensors in elems."""
    tf = import_tensorflow()
    if unroll:
        for t in range(int(elems[0].shape[0])):
            state = step(state, [e[t] for e in elems])
        return state
    out = tf.scan(lambda s, e: step(s, list(e)), tuple(elems), initializer=tuple(state))
    return tuple(o[-1] for o in out)


def _tt_scores(spec, op, xi_fn, p, F, log_scale):
    """Generalized RNN (docs/theory.md section 3); cores (r, L, r'), inputs a_t = C_t f(x_t).

    For xi = product the recursion also runs on several members at once: every parameter and
    F with a leading member axis (K, ...), the state (K, batch, r), batched matmuls (the
    operations of one network, where ``tf.vectorized_map`` adds its own).
    """
    tf = import_tensorflow()
    if "matrices" in p:
        F = tf.einsum("...bdm,...dlm->...bdl", F, p["matrices"])
    a0 = F[..., 0, :]
    start = a0 if op.unit is None else xi_fn(a0, op.unit * tf.ones_like(a0))
    h = tf.matmul(start, p["core_first"][..., 0, :, :])
    L = tf.zeros_like(h[..., 0])
    if spec.d == 1:
        return h, L

    def step(state, elem, last=False):
        u, L = state
        a, G = elem
        if op.is_product:  # linear in the state: no pair tensor needed
            # static where known (fewer ops a step: the step is small and op-bound)
            shape = tuple(G.shape)
            if any(n is None for n in shape):
                shape = tf.unstack(tf.shape(G))
            *lead, r_prev, width, r_next = shape
            T = tf.matmul(u, tf.reshape(G, [*lead, r_prev, width * r_next]))
            T = tf.reshape(T, tf.concat([tf.shape(u)[:-1], [width, r_next]], 0))
            v = tf.reduce_sum(tf.expand_dims(a, -1) * T, axis=-2)
        else:
            la = tf.zeros_like(L)
            if log_scale:
                a, la = _normalise(a, la)
            v, L = _rescaled(op, lambda x, y: contract(xi_fn, x, y, G), u, L, a, la)
        if log_scale and not last:
            return _normalise(v, L)
        return v, L

    state = _normalise(h, L) if log_scale else (h, L)
    if spec.d > 2:
        positions = F[..., 1:-1, :]  # positions first: (d - 2, [K,] batch, L)
        rank = len(positions.shape)
        elems = [
            tf.transpose(positions, [rank - 2, *range(rank - 2), rank - 1]),
            _middle_cores(spec, p, members=rank == 4),
        ]
        state = _fold(step, state, elems, spec.d <= UNROLL_MAX)
    return step(state, (F[..., -1, :], p["core_last"]), last=True)


def _tt_member_scores(spec, params, F, xi_fn):
    """Every member's ``(v, L)`` through one batched recursion (xi = product)."""
    op = get_operator(spec.xi)
    return _tt_scores(member_spec(spec), op, xi_fn or operator_form(op), params, F, True)


def _middle_cores(spec, params, members: bool = False):
    """The (d - 2, r, L, r) middle cores; a shared core repeated (its gradient is the sum over
    its positions). With ``members``, (d - 2, K, r, L, r): positions first."""
    tf = import_tensorflow()
    if not spec.shared_cores:
        cores = params["cores_middle"]
        return tf.transpose(cores, [1, 0, 2, 3, 4]) if members else cores
    return tf.repeat(tf.expand_dims(params["core_middle"], 0), spec.d - 2, axis=0)


def _tt_grid(spec, op, xi_fn, params, F):
    """``Gamma_t = sum G_t xi(F C_t^T, Gamma_{t-1})`` (docs/theory.md section 3)."""
    tf = import_tensorflow()
    d = spec.d
    a = [F] * d
    if "matrices" in params:
        a = [F @ tf.transpose(params["matrices"][t]) for t in range(d)]
    cores = [params["core_first"]]
    if d > 2:
        middle = _middle_cores(spec, params)
        cores += [middle[t] for t in range(d - 2)]
    if d > 1:
        cores.append(params["core_last"])
    start = a[0] if op.unit is None else xi_fn(a[0], op.unit * tf.ones_like(a[0]))
    state = start @ cores[0][0]
    for t in range(1, d):
        state = _outer(xi_fn, state, a[t], cores[t])
    return state


def _cp_scores(spec, op, xi_fn, p, F, log_scale):
    """``sum_a w[a, c] xi-fold_k <f(x_k), v_{k,a}>`` with the running fold kept in scale."""
    tf = import_tensorflow()
    if "factor" in p:  # one factor shared by every position
        z = tf.einsum("bdm,mr->dbr", F, p["factor"])
    else:
        z = tf.einsum("bdm,dmr->dbr", F, p["factors"])
    u, L = z[0], tf.zeros_like(z[0][:, 0])
    if log_scale:
        u, L = _normalise(u, L)

    def step(state, elem):
        u, L = state
        (zk,) = elem
        lz = tf.zeros_like(L)
        if not log_scale:
            return xi_fn(u, zk), L
        zk, lz = _normalise(zk, lz)
        return _normalise(*_rescaled(op, xi_fn, u, L, zk, lz))

    if spec.d > 1:
        u, L = _fold(step, (u, L), [z[1:]], spec.d <= UNROLL_MAX)
    return tf.matmul(u, p["weights"]), L


def _cp_grid(spec, op, xi_fn, params, F):
    """``sum_a w_a (F v_1a) (x)_xi ... (x)_xi (F v_da)``: the rows of the state are tuples."""
    tf = import_tensorflow()
    if "factor" in params:
        z = [F @ params["factor"]] * spec.d
    else:
        z = [F @ params["factors"][k] for k in range(spec.d)]
    state = z[0]
    for zk in z[1:]:
        pair = xi_fn(tf.expand_dims(state, 1), tf.expand_dims(zk, 0))
        state = tf.reshape(pair, [-1, tf.shape(zk)[1]])
    return state @ params["weights"]


def _waves(tree) -> list[list[int]]:
    """Internal nodes grouped by height (children always in an earlier wave), post-order."""
    height = node_heights(tree)
    waves: dict[int, list[int]] = {}
    for node in tree.internal_nodes:
        waves.setdefault(height[node], []).append(node)
    return [waves[h] for h in sorted(waves)]


def _transfer(spec, tree, p, node, height):
    """The transfer tensor of an internal node: its own, or its level's when shared."""
    if spec.shared_cores and node != tree.root:
        return p[level_name(height[node])]
    return p[node_name(tree, node)]


def _ht_scores(spec, op, xi_fn, p, F, log_scale):
    """HT network over the spec's tree: the nodes of one height in one batched contraction."""
    tf = import_tensorflow()
    tree = spec.dimension_tree()
    height = node_heights(tree)
    if "leaf" in p:  # one leaf shared by every position
        leaves = tf.einsum("bdm,mr->dbr", F, p["leaf"])
    else:
        leaves = tf.einsum("bdm,dmr->dbr", F, p["leaves"])
    u, L = leaves, tf.zeros_like(leaves[:, :, 0])
    if log_scale:
        u, L = _normalise(u, L)
    phi = {tree.leaf(k): (u[k], L[k]) for k in range(spec.d)}
    for wave in _waves(tree):
        lefts = [tree.children(node)[0] for node in wave]
        rights = [tree.children(node)[1] for node in wave]
        x, lx = tf.stack([phi[c][0] for c in lefts]), tf.stack([phi[c][1] for c in lefts])
        y, ly = tf.stack([phi[c][0] for c in rights]), tf.stack([phi[c][1] for c in rights])
        B = tf.stack([_transfer(spec, tree, p, node, height) for node in wave])  # (k, r, r, r')

        def combine(a, b, B=B):
            pair = xi_fn(tf.expand_dims(a, -1), tf.expand_dims(b, -2))  # (k, batch, r, r)
            shape = tf.shape(pair)
            flat = tf.reshape(pair, [shape[0], shape[1], shape[2] * shape[3]])
            W = tf.reshape(B, [shape[0], shape[2] * shape[3], -1])
            return tf.matmul(flat, W)  # (k, batch, r')

        if log_scale:
            v, s = _rescaled(op, combine, x, lx, y, ly)
            if wave[-1] != tree.root:
                v, s = _normalise(v, s)
        else:
            v, s = combine(x, y), lx
        for k, node in enumerate(wave):
            phi[node] = (v[k], s[k])
    return phi[tree.root]


def _ht_grid(spec, op, xi_fn, params, F):
    """``U_t[(i_l, i_r)] = sum B xi(U_l[i_l], U_r[i_r])`` up the tree, then modes in order."""
    tf = import_tensorflow()
    tree = spec.dimension_tree()
    height = node_heights(tree)
    leaf = params["leaf"] if "leaf" in params else None
    U = {tree.leaf(k): F @ (params["leaves"][k] if leaf is None else leaf) for k in range(spec.d)}
    for node in tree.internal_nodes:
        left, right = tree.children(node)
        W = _transfer(spec, tree, params, node, height)
        U[node] = _outer(xi_fn, U.pop(left), U.pop(right), W)
    full = U[tree.root]
    inverse = [int(i) for i in np.argsort(tree.mode_order)]
    if inverse != list(range(spec.d)):
        M = tf.shape(F)[0]
        full = tf.transpose(tf.reshape(full, tf.fill([spec.d], M)), inverse)
    return full


def scores(spec: NetworkSpec, params: dict, F, xi_fn=None):
    """``(v, L)`` with the scores ``exp(L)[:, None] * v`` of a batch.

    Parameters
    ----------
    spec : NetworkSpec
    params : dict of TensorFlow tensors
        Named as in :func:`~tensorexpr.engine.param_names`.
    F : tf.Tensor of shape (batch, d, m)
        The features ``f(x_k)`` of every position (with ``spec.member_features``, of the
        map that holds every member's features).
    xi_fn : callable, optional
        xi on TensorFlow tensors; :func:`~tensorexpr.engine.operator_form` by default.

    Returns
    -------
    v : tf.Tensor of shape (batch, n_outputs)
    L : tf.Tensor of shape (batch,)
        Zero when the operator is neither the product nor positively homogeneous.
        With several members (``spec.members``) the scores are the members' mean.
    """
    if spec.members > 1:
        tf = import_tensorflow()
        v, L = member_scores(spec, params, F, xi_fn)
        top = tf.reduce_max(L, axis=0)
        weights = tf.expand_dims(tf.exp(L - top), -1)  # each member's scale, <= 1
        return tf.reduce_mean(weights * v, axis=0), top
    op = get_operator(spec.xi)
    log_scale = op.is_product or op.positively_homogeneous
    return RECURSIONS[spec.kind][0](spec, op, xi_fn or operator_form(op), params, F, log_scale)


def member_scores(spec: NetworkSpec, params: dict, F, xi_fn=None):
    """``(v, L)`` of every member of a spec with ``members > 1``: shapes (K, batch, C) and
    (K, batch). A kind in MEMBER_RECURSIONS (TT, xi = product) runs its recursion once on a
    leading member axis; the others are vectorised into one graph (``tf.vectorized_map``),
    so that K members cost about the operations of one."""
    tf = import_tensorflow()
    one = member_spec(spec)
    batched = MEMBER_RECURSIONS.get(spec.kind) if get_operator(spec.xi).is_product else None
    if spec.member_features is None:  # every member reads all of f(x)
        if batched is not None:
            K = spec.members
            return batched(spec, params, tf.repeat(tf.expand_dims(F, 0), K, axis=0), xi_fn)
        return tf.vectorized_map(lambda p: scores(one, p, F, xi_fn), params)
    # each member its own features: (batch, d, K, m) -> (K, batch, d, m), mapped with its params
    own = tf.transpose(tf.gather(F, spec.member_features, axis=-1), [2, 0, 1, 3])
    if batched is not None:
        return batched(spec, params, own, xi_fn)
    return tf.vectorized_map(lambda pf: scores(one, pf[0], pf[1], xi_fn), (params, own))


def grid(spec: NetworkSpec, params: dict, F, xi_fn=None):
    """The grid tensor on the templates whose feature matrix is ``F``, flattened.

    Parameters
    ----------
    spec : NetworkSpec
        ``n_outputs`` must be 1.
    params : dict of TensorFlow tensors
    F : tf.Tensor of shape (M, m)
        ``F[i] = f(x^(i))``; the identity for one-hot templates.
    xi_fn : callable, optional
        xi on TensorFlow tensors (a smoothed form during a fit); ``operator_form(xi)`` by default.

    Returns
    -------
    tf.Tensor of shape (M**d,)
        Mode 0 slowest, like ``numpy.reshape``.
    """
    tf = import_tensorflow()
    op = get_operator(spec.xi)
    grid_of = RECURSIONS[spec.kind][1]
    return tf.reshape(grid_of(spec, op, xi_fn or operator_form(op), params, F), [-1])


def _outer(xi_fn, state, new, W):
    """Rows of ``state`` (P) times rows of ``new`` (Q) through W: (P * Q, C), new mode fastest."""
    tf = import_tensorflow()
    out = contract(xi_fn, tf.expand_dims(state, 1), tf.expand_dims(new, 0), W)
    return tf.reshape(out, [-1, tf.shape(W)[-1]])


#: The TensorFlow recursions of each network kind (docs/theory.md sections 1 and 3):
#: ``(scores, grid)``, the batch form with the log-scale state and the grid form on a feature
#: matrix. A new kind adds its pair here and its layout in ``tensorexpr.networks``.
RECURSIONS = {
    "cp": (_cp_scores, _cp_grid),
    "tt": (_tt_scores, _tt_grid),
    "ht": (_ht_scores, _ht_grid),
}

#: Kinds whose scores recursion also runs on a leading member axis (xi = product): their
#: members skip ``tf.vectorized_map``; the others are vectorised by it.
MEMBER_RECURSIONS = {"tt": _tt_member_scores}
