"""The cost model of ``method="auto"``: the dense route, an exact or a float certificate
(docs/expressivity.md, "Exact certificates and how auto chooses")."""

from __future__ import annotations

import math

import numpy as np

from .._backend import DEFAULT_MEMORY_LIMIT, to_numpy
from ..grid import feature_matrix
from ._entries import BOUNDED_XI, FeatureDiagnostic, GridEntries
from ._inputs import resolve_input, row_modes_of
from ._modular import PRIMES

#: Default largest side of a submatrix: float certificates (an SVD), exact ones (elimination
#: mod p, ~17 s at 4096 on 2 cores: benchmarks/bench_certificates.py).
FLOAT_SIZE, EXACT_SIZE = 2048, 4096


#: Largest side certified by the Kronecker argument by default (it forms 2 n x n blocks, n the
#: square root of the side, and no submatrix).
KRONECKER_SIZE = 2**14


#: Float64 copies of an exact submatrix alive at once (the residues, the elimination's copy,
#: an update chunk).
EXACT_COPIES = 2.5


def exact_size(entries, S, T, memory_limit, kronecker: bool = False) -> int:
    """Default side of an exact submatrix: the whole sub-grid on the pivot templates (it
    has the generic rank) when that is at most 4096 (2^14 for the Kronecker argument, which
    forms no submatrix); 2048 when no such size reaches it (a partial bound either way, in
    seconds); for elimination at most what memory_limit allows."""
    q = len(entries.pivot_templates())
    whole = _power(q, min(len(S), len(T))) if q > 1 else 1
    if kronecker and whole <= KRONECKER_SIZE:
        return int(whole)
    fits = int(np.sqrt(max(memory_limit, 1) / (8 * EXACT_COPIES)))
    size = int(whole) if whole <= EXACT_SIZE else FLOAT_SIZE
    return max(1, min(size, fits))


def kronecker_applies(entries, S, T) -> bool:
    """Whether ``_exact.kronecker_full_rank`` may decide: a product TT network
    with a bond of 2 between its halves, each half with as many row as column modes."""
    net = entries.net
    if net is None or not entries.xi.is_product or net.kind != "tt" or net.d % 2:
        return False
    h = net.d // 2
    halves = [sum(1 for k in side if k < h) for side in (S, T)]
    return (
        net.matrices is None
        and net.cores[h - 1].shape[2] == 2
        and halves[0] == halves[1] > 0
        and len(S) - halves[0] == len(T) - halves[1] > 0
    )


def _power(base: int, exponent: int) -> float:
    """``base^exponent`` as a float, inf where it would overflow (d = 512 and beyond)."""
    if base <= 1:
        return float(max(base, 0) ** exponent)
    return math.inf if exponent * math.log(base) > 700 else float(base) ** exponent


def choose_method(source, templates=None, row_modes="odd", memory_limit=DEFAULT_MEMORY_LIMIT):
    """``"dense"``, ``"exact"`` or ``"submatrix"``: the route ``method="auto"`` takes.

    Cost model (floating-point operations, docs/expressivity.md): the dense route forms the
    M^d grid and takes the SVD of its ``M^|S| x M^|T|`` matricization (``~ 4 k1 k2 min +
    8 min^3``) when it fits ``memory_limit``; a certificate works on the sub-grid of the
    q pivot templates (q = rank F for product networks, M otherwise), ``q^|S| x q^|T|`` capped
    at its default size: an exact one costs its entries plus an elimination mod p (``~ 2 k1
    k2 min``; ``~ 2 n^4`` with ``n = sqrt(k)`` for a product TT network whose halves meet at a
    bond of 2, where the Kronecker argument of ``_exact.kronecker_full_rank``
    certifies full rank without the submatrix), a float one its entries plus an SVD. Exact
    arithmetic in Python integers (max
    networks whose values outgrow float64 integers) costs ~1000x. The cheapest route wins;
    a certificate before the dense route, exact before float, at equal cost. Tensors (given
    data) keep their numerical rank: dense when it fits, else a float submatrix.

    Parameters
    ----------
    source : network or tensor
    templates : array of shape (M, n), optional
    row_modes : "odd", "even" or sequence of ints
    memory_limit : int

    Returns
    -------
    str
        ``"dense"``, ``"exact"`` or ``"submatrix"``.

    Examples
    --------
    >>> import tensorexpr as te
    >>> from tensorexpr.analysis.certificates import choose_method
    >>> net = te.TTNetwork.random(12, te.LinearFeatures.identity(2), 2, random_state=4)
    >>> choose_method(net, [[1, 0], [0, 1], [1, 1], [1, -1]])
    'exact'
    """
    source = resolve_input(source, templates, memory_limit=memory_limit)
    if source.kind == "tensor":
        # given data: its numerical rank (the dense route) when it fits; its exact rank is
        # that of the rounded numbers, full for any noisy low-rank tensor
        fits = 3 * 8 * int(np.prod(source.shape, dtype=object)) <= memory_limit
        return "dense" if fits else "submatrix"
    net, templates = source.value, source.templates
    M, d = source.mode_size, source.d
    S = row_modes_of(row_modes, d)
    nS, nT = len(S), d - len(S)

    def svd_flops(k1, k2):
        small, big = min(k1, k2), max(k1, k2)
        return 4.0 * small * small * big + 8.0 * small**3

    q = M
    if net.xi.is_product and templates is not None:
        F = to_numpy(feature_matrix(net.feature_map, templates)).astype(np.float64)
        q = FeatureDiagnostic.of(F).rank
    # every route's rank is at most that of the sub-grid on the q pivot templates
    needed = min(_power(q, nS), _power(q, nT))
    costs, reach = {}, {}
    if 3.0 * 8 * _power(M, d) <= memory_limit:
        n1, n2 = _power(M, nS), _power(M, nT)
        costs["dense"] = svd_flops(n1, n2) + 10.0 * _power(M, d)
        reach["dense"] = needed
    fits = np.sqrt(max(memory_limit, 1) / (8 * EXACT_COPIES))
    exact_cap = EXACT_SIZE if needed <= EXACT_SIZE else FLOAT_SIZE  # as exact_size
    for name, cap in (("exact", exact_cap), ("submatrix", FLOAT_SIZE)):
        k1 = min(_power(q, nS), cap, fits)
        k2 = min(_power(q, nT), cap, fits)
        # a pointwise entry touches every parameter once; structured ones cost less
        entries = k1 * k2 * 2.0 * net.n_params
        if name == "submatrix":
            if net.xi.name not in BOUNDED_XI:
                continue
            costs[name] = entries * 2 + svd_flops(k1, k2)
            reach[name] = min(k1, k2)
            continue
        try:
            probe = GridEntries(source, memory_limit)
            probe.check_exact()
            slow = (
                probe.net is not None
                and not probe.xi.is_product
                and not probe.exact_network(PRIMES[0]).float_only()
            )
        except ValueError:
            continue
        cols = tuple(k for k in range(d) if k not in S)
        if kronecker_applies(probe, S, cols) and needed <= KRONECKER_SIZE:
            # two n x n blocks (n = sqrt(needed)): inverses, products and characteristic
            # polynomials (Faddeev-LeVerrier, n products), plus the two half contractions
            n = np.sqrt(needed)
            costs[name], reach[name] = 2.0 * n**4 + 10.0 * needed, needed
            continue
        costs[name] = entries * (1000.0 if slow else 1.0) + 2.0 * k1 * k2 * min(k1, k2)
        reach[name] = min(k1, k2)
    if not costs:
        return "submatrix"
    order = {"exact": 0, "submatrix": 1, "dense": 2}
    # the largest reachable rank first (a capped submatrix certifies less), then the cost
    # below ~10 ms every route is as fast as another: the preference order decides
    return min(costs, key=lambda name: (-reach[name], max(costs[name], 1e7), order[name]))
