"""Submatrix certificates of matricization ranks: never above the dense rank, equal on the
witnesses, recomputed independently in plain numpy, verified, saved and loaded."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tensorexpr as te
from tensorexpr.analysis.certificates import (
    WidthCertificate,
    certify_matricization_rank,
    choose_method,
    submatrix_indices,
)
from tensorexpr.experiments.theorem1 import SCALE_TEMPLATES, certified_witness, witness_network
from tensorexpr.experiments.theorem5_2 import witness_grid, witness_rnn

SELECTIONS = ("structured", "pivoted", "random")


def _plain_numpy_check(net, templates, cert):
    """The certificate recomputed from the network's own outputs on its tuples."""
    idx = submatrix_indices(cert.row_tuples, cert.col_tuples, cert.row_modes, cert.d)
    k1, k2, d = idx.shape
    X = np.asarray(templates)[idx.reshape(-1, d)]
    B = np.asarray(net(X), dtype=np.float64).reshape(k1, k2)
    s = np.linalg.svd(B, compute_uv=False)
    return B, s


@pytest.mark.parametrize(("d", "m", "r"), [(2, 3, 2), (4, 3, 2), (4, 2, 3), (6, 3, 3), (6, 2, 1)])
def test_submatrix_equals_dense_on_theorem1_witness(d, m, r):
    net = witness_network(d, m, r)
    dense = te.shallow_width_lower_bound(net, method="dense")
    sub = te.shallow_width_lower_bound(net, method="submatrix")
    assert sub.method == "submatrix" and dense.method == "dense"
    assert sub.bound == dense.bound == min(m, r) ** (d // 2)
    assert sub.certificate.sigma > sub.certificate.margin > 0


@pytest.mark.parametrize(("M", "d"), [(2, 4), (3, 4), (3, 2), (2, 6)])
def test_submatrix_equals_dense_on_theorem5_2_witness(M, d):
    dense = te.shallow_width_lower_bound(witness_grid(M, d), xi="relu_max", method="dense")
    sub = te.shallow_width_lower_bound(witness_grid(M, d), xi="relu_max", method="submatrix")
    net_sub = te.shallow_width_lower_bound(
        witness_rnn(M, d), templates=np.eye(M), method="submatrix"
    )
    assert sub.rank == net_sub.rank == dense.rank == M ** (d // 2)
    assert sub.bound == net_sub.bound == dense.bound == math.ceil(M ** (d // 2) / (M * d / 2))


@pytest.mark.parametrize("xi", ["product", "relu_max", "relu_sum", "max"])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("selection", SELECTIONS)
def test_submatrix_never_exceeds_dense(xi, seed, selection):
    """The cases of test_expressivity's true-width test, plus random TT / HT networks, with
    submatrices small enough that they are proper."""
    rng = np.random.default_rng(seed)
    R = int(rng.integers(1, 4))
    d = int(rng.choice([2, 4]))
    M = int(rng.integers(2, 5))
    templates = rng.standard_normal((M, 2))
    fmap = te.ReLUFeatures(2, 3, random_state=seed)
    nets = [
        te.CPNetwork.random(d, fmap, rank=R, xi=xi, random_state=seed),
        te.TTNetwork.random(4, fmap, rank=2, xi=xi, random_state=seed),
        te.HTNetwork.random(4, fmap, rank=2, xi=xi, random_state=seed),
    ]
    for net in nets:
        for parts in (("odd",), ([0],)):
            dense = te.shallow_width_lower_bound(
                net, templates=templates, partitions=parts, method="dense"
            )
            for size in (2, 3, 100):
                sub = te.shallow_width_lower_bound(
                    net,
                    templates=templates,
                    partitions=parts,
                    method="submatrix",
                    selection=selection,
                    max_size=size,
                    random_state=seed,
                )
                assert sub.rank <= dense.rank and sub.bound <= dense.bound
                assert sub.certificate.shape[0] <= size and sub.certificate.shape[1] <= size


def test_structured_submatrix_reaches_dense_rank_of_product_networks():
    for seed in range(3):
        rng = np.random.default_rng(seed)
        net = te.TTNetwork.random(
            6, te.LinearFeatures(3, 3, random_state=rng), rank=2, random_state=rng
        )
        templates = rng.standard_normal((5, 3))
        dense = te.matricization_rank(net, templates=templates, method="dense")
        sub = te.matricization_rank(net, templates=templates, method="submatrix", max_size=27)
        assert sub.rank == dense.rank >= 8  # min(m, r)^(d/2) = 8 <= generic rank <= 27
        assert sub.certificate.shape == (27, 27)  # the pivot templates: 3 of the 5


@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("kind", ["tt", "relu"])
def test_certificate_recomputed_in_plain_numpy(selection, kind):
    rng = np.random.default_rng(3)
    if kind == "tt":
        fmap = te.ReLUFeatures(2, 3, random_state=rng)
        net = te.TTNetwork.random(6, fmap, rank=3, random_state=rng)
        templates = rng.standard_normal((5, 2))
    else:
        net = te.TTNetwork.random(
            6, te.LinearFeatures.identity(4), 3, xi="relu_max", hidden_size=4, random_state=rng
        )
        templates = np.eye(4)
    found = te.matricization_rank(
        net, templates=templates, method="submatrix", selection=selection, max_size=40
    )
    cert = found.certificate
    B, s = _plain_numpy_check(net, templates, cert)
    assert B.shape == cert.shape
    # same singular values up to the certificate's error bounds, same count above the margin
    np.testing.assert_allclose(s, cert.singular_values, rtol=0, atol=2 * cert.margin)
    assert int(np.sum(s > cert.margin)) == cert.rank == found.rank
    assert cert.rank == 0 or abs(s[cert.rank - 1] - cert.sigma) <= 2 * cert.margin
    # the margin is rigorous, not tiny: entries' bound from |parameters| and the SVD bound
    assert cert.entry_error > 0 and cert.svd_error > 0
    assert cert.margin == pytest.approx(cert.entry_error + cert.svd_error)


def test_verify_accepts_true_and_rejects_forged_certificates(tmp_path):
    net = witness_rnn(3, 4)
    found = te.shallow_width_lower_bound(net, templates=np.eye(3), method="submatrix")
    cert = found.certificate
    check = te.verify_width_certificate(net, np.eye(3), cert)
    assert check and check.rank == cert.rank == 9 and check.sigma == pytest.approx(cert.sigma)
    # the same from a plain callable (a black box) and from the grid tensor as a function
    grid = witness_grid(3, 4)

    def score(X):
        return grid[tuple(np.argmax(X, axis=2).T)]

    assert te.verify_width_certificate(score, np.eye(3), cert)
    forged = WidthCertificate(**{**cert.__dict__, "rank": cert.rank + 1})
    assert not te.verify_width_certificate(net, np.eye(3), forged)
    lying_sigma = WidthCertificate(**{**cert.__dict__, "sigma": cert.sigma * 3})
    assert not te.verify_width_certificate(net, np.eye(3), lying_sigma)
    duplicated = WidthCertificate(
        **{**cert.__dict__, "row_tuples": np.repeat(cert.row_tuples[:1], len(cert.row_tuples), 0)}
    )
    assert not te.verify_width_certificate(net, np.eye(3), duplicated)
    for name in ("cert.json", "cert.npz"):
        loaded = WidthCertificate.load(cert.save(tmp_path / name))
        assert loaded.rank == cert.rank and loaded.row_modes == cert.row_modes
        np.testing.assert_array_equal(loaded.row_tuples, cert.row_tuples)
        np.testing.assert_array_equal(loaded.singular_values, cert.singular_values)
        assert te.verify_width_certificate(net, np.eye(3), loaded)


def test_auto_picks_the_cheapest_route_that_reaches_the_rank():
    net = witness_network(8, 2, 2)
    small = te.shallow_width_lower_bound(net, templates=SCALE_TEMPLATES, memory_limit=2**16)
    large = te.shallow_width_lower_bound(net, templates=SCALE_TEMPLATES)
    dense = te.shallow_width_lower_bound(net, templates=SCALE_TEMPLATES, method="dense")
    # exact on the 2 pivot templates (16 x 16) is cheaper than the dense 256 x 256 SVD
    assert small.method == large.method == "exact"
    assert small.bound == large.bound == dense.bound == 16
    assert te.verify_width_certificate(net, SCALE_TEMPLATES, small.certificate)
    # given data keeps its numerical rank: dense when it fits, a float submatrix beyond
    grid = net.grid_tensor(SCALE_TEMPLATES)
    assert choose_method(grid) == "dense"
    assert choose_method(grid, memory_limit=2**16) == "submatrix"
    # no exact values (trig features), no float bound (softplus): the routes that remain
    trig = te.TTNetwork.random(6, te.TrigFeatures(), 2, random_state=0)
    assert choose_method(trig, np.linspace(0, 1, 4)) == "submatrix"
    soft = te.TTNetwork.random(4, te.LinearFeatures.identity(2), 2, xi="softplus")
    assert choose_method(soft, SCALE_TEMPLATES) == "dense"


def test_theorem1_witness_beyond_dense_sizes():
    """d = 16 on 4 templates: 4^16 entries (34 GB dense), rank 256 certified in well under a
    second (d = 24, rank 4096: benchmarks/bench_certificates.py)."""
    row = certified_witness(16, max_size=256, method="submatrix")
    assert row["rank_witness"] == row["bound"] == 256 and row["witness_exact"]
    assert row["sigma_min_counted"] > 1e6 * row["margin"]
    row = certified_witness(16)
    assert row["method"] == "exact" and row["rank_witness"] == 256 and row["margin"] == 0.0


def test_submatrix_errors_name_the_argument():
    net = te.TTNetwork.random(4, te.LinearFeatures.identity(2), rank=2, random_state=0)
    with pytest.raises(ValueError, match="method must be"):
        te.matricization_rank(net, method="sparse")
    with pytest.raises(ValueError, match="selection must be one of"):
        te.matricization_rank(net, method="submatrix", selection="best")
    with pytest.raises(TypeError, match="max_size must be"):
        te.matricization_rank(net, method="submatrix", max_size=2.5)
    with pytest.raises(ValueError, match="entry_error must be"):
        te.matricization_rank(net, method="submatrix", entry_error=-1.0)
    with pytest.raises(ValueError, match="atol is not used"):
        te.matricization_rank(net, method="submatrix", atol=1e-3)
    with pytest.raises(TypeError, match="need method='submatrix'"):
        te.matricization_rank(net, method="dense", max_size=4)
    soft = te.TTNetwork.random(4, te.TrigFeatures(), rank=2, xi="softplus", random_state=0)
    with pytest.raises(ValueError, match="no entry error bound is known for xi='softplus'"):
        certify_matricization_rank(soft, templates=np.linspace(0, 1, 3))
    with pytest.raises(ValueError, match="needs equal mode sizes"):
        certify_matricization_rank(np.ones((2, 3)))
    with pytest.raises(ValueError, match="needs templates and d"):
        certify_matricization_rank(lambda X: X[:, 0, 0], templates=np.eye(2))
    cert = certify_matricization_rank(net)
    with pytest.raises(TypeError, match="certificate must be a WidthCertificate"):
        te.verify_width_certificate(net, None, cert.to_dict())
    with pytest.raises(ValueError, match="the certificate is for d=4"):
        te.verify_width_certificate(
            te.TTNetwork.random(6, te.LinearFeatures.identity(2), rank=2), None, cert
        )
    with pytest.raises(ValueError, match="not a tensorexpr.WidthCertificate"):
        WidthCertificate.from_dict({"format": "other"})


@pytest.mark.parametrize("kind", ["cp", "tt", "ht"])
@pytest.mark.parametrize("xi", ["product", "relu_max", "relu_sum"])
def test_every_network_kind_verifies_from_its_own_outputs(kind, xi):
    rng = np.random.default_rng(7)
    fmap = te.ReLUFeatures(2, 3, random_state=rng)
    cls = {"cp": te.CPNetwork, "tt": te.TTNetwork, "ht": te.HTNetwork}[kind]
    net = cls.random(4, fmap, rank=2, xi=xi, random_state=rng)
    templates = rng.standard_normal((4, 2))
    cert = certify_matricization_rank(net, templates, max_size=12, random_state=0)
    check = te.verify_width_certificate(net, templates, cert)
    assert check.valid and check.rank >= cert.rank >= 1
    dense = te.matricization_rank(net, templates=templates, method="dense").rank
    assert cert.rank <= dense


# -- exact certificates ---------------------------------------------------------------------
ISSUE_TEMPLATES = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -1.0]])


def _rational_rank(net, templates, cert):
    """The certificate's submatrix in exact integers (one common scale), by the network's
    recursion in dyadic arithmetic, and its rank over Q by Fraction elimination."""
    from tensorexpr.analysis._exact import ExactNetwork, exact_feature_matrix
    from tensorexpr.analysis._modular import rank_rational

    F = exact_feature_matrix(net.feature_map, templates)
    idx = submatrix_indices(cert.row_tuples, cert.col_tuples, cert.row_modes, cert.d)
    k1, k2, d = idx.shape
    values = ExactNetwork(net, F, "dyadic").values(idx.reshape(-1, d))
    return rank_rational(values.V.reshape(k1, k2))


@pytest.mark.parametrize(("kind", "d"), [("tt", 8), ("tt", 12), ("ht", 8), ("cp", 8)])
def test_exact_certificates_reach_the_theorem_and_verify_independently(kind, d):
    """The issue's example: rank min(m, r)^(d/2) (CP: its width) certified with no margin,
    re-checked pointwise with another prime and, on the small cases, over Q."""
    cls = {"tt": te.TTNetwork, "ht": te.HTNetwork, "cp": te.CPNetwork}[kind]
    rank = 5 if kind == "cp" else 2
    net = cls.random(d, te.LinearFeatures.identity(2), rank, random_state=4)
    found = te.shallow_width_lower_bound(net, templates=ISSUE_TEMPLATES)
    cert = found.certificate
    expected = 5 if kind == "cp" else 2 ** (d // 2)
    assert found.method == "exact" and cert.exact and cert.margin == 0.0
    assert found.bound == cert.rank == expected
    assert cert.diagnostic.ok and cert.diagnostic.rank == 2
    check = te.verify_width_certificate(net, ISSUE_TEMPLATES, cert)
    assert check.valid and check.rank == expected
    if d == 8:
        assert _rational_rank(net, ISSUE_TEMPLATES, cert) == expected


def test_exact_certificate_of_the_theorem5_2_witness():
    net = witness_rnn(3, 6)
    found = te.shallow_width_lower_bound(net, templates=np.eye(3))
    assert found.method == "exact"
    assert found.rank == 27 and found.bound == math.ceil(27 / 9)
    assert te.verify_width_certificate(net, np.eye(3), found.certificate)
    assert _rational_rank(net, np.eye(3), found.certificate) == 27


@pytest.mark.parametrize("xi", ["relu_max", "relu_sum", "max"])
def test_exact_rank_of_generalized_networks_is_the_rational_rank(xi):
    rng = np.random.default_rng(11)
    net = te.TTNetwork.random(
        4, te.ReLUFeatures(2, 3, random_state=rng), 2, xi=xi, random_state=rng
    )
    templates = rng.standard_normal((4, 2))
    cert = certify_matricization_rank(net, templates, exact=True)
    assert cert.shape == (16, 16)
    assert cert.rank == _rational_rank(net, templates, cert)
    assert cert.rank <= te.matricization_rank(net, templates=templates, method="dense").rank + 1
    assert te.verify_width_certificate(net, templates, cert)


@pytest.mark.parametrize("d", [200, 512])
@pytest.mark.parametrize("kind", ["tt", "ht", "cp"])
def test_certificates_at_any_d(kind, d):
    """No array with one axis per mode: d = 512 works, exact and float."""
    cls = {"tt": te.TTNetwork, "ht": te.HTNetwork, "cp": te.CPNetwork}[kind]
    net = cls.random(d, te.LinearFeatures.identity(2), 2, random_state=0)
    exact = te.shallow_width_lower_bound(net, templates=ISSUE_TEMPLATES, max_size=16)
    assert exact.method == "exact" and exact.rank == (2 if kind == "cp" else 16)
    assert te.verify_width_certificate(net, ISSUE_TEMPLATES, exact.certificate)
    if kind == "tt":
        float_ = te.matricization_rank(
            net, templates=ISSUE_TEMPLATES, method="submatrix", max_size=16
        )
        # runs at any d, but the absolute network's values (the margin) outgrow the
        # entries by ~1e50 at d = 200: only the exact route certifies the rank there
        assert float_.rank <= 16 and float_.atol > float_.singular_values[0]


def test_generalized_networks_at_large_d():
    """relu_max at d = 100: exact values would need ~5000-bit integers, so auto takes the
    float certificate; it runs (and its margin, not an array size, limits it)."""
    net = te.TTNetwork.random(100, te.LinearFeatures.identity(3), 2, xi="relu_max", random_state=0)
    assert choose_method(net, np.eye(3)) == "submatrix"
    found = te.shallow_width_lower_bound(net, templates=np.eye(3), max_size=8)
    assert found.method == "submatrix" and found.certificate.shape[0] <= 8


def test_float_certificates_of_trig_networks_at_large_d():
    net = te.TTNetwork.random(130, te.TrigFeatures(), 2, random_state=0)
    found = te.shallow_width_lower_bound(net, templates=np.linspace(0, 1, 3), max_size=8)
    # no exact trig values: the float route, which runs at d = 130 (its margin, not an
    # array size, limits what it certifies there)
    assert found.method == "submatrix" and found.certificate.shape == (8, 8)
    assert found.rank <= 8


def test_verify_rejects_tuples_outside_the_templates():
    import dataclasses

    net = te.TTNetwork.random(4, te.LinearFeatures.identity(2), rank=2, random_state=0)
    for exact in (False, True):
        cert = certify_matricization_rank(net, ISSUE_TEMPLATES, exact=exact)
        rows = cert.row_tuples.copy()
        rows[0, 0] = -1  # would wrap around to the last template
        with pytest.raises(ValueError, match=r"row_tuples must hold template indices in \[0, 4\)"):
            te.verify_width_certificate(
                net, ISSUE_TEMPLATES, dataclasses.replace(cert, row_tuples=rows)
            )
        cols = cert.col_tuples.copy()
        cols[-1, -1] = 4
        with pytest.raises(ValueError, match="col_tuples must hold template indices"):
            te.verify_width_certificate(
                net, ISSUE_TEMPLATES, dataclasses.replace(cert, col_tuples=cols)
            )
        with pytest.raises(ValueError, match=r"row_tuples must be an integer array of shape"):
            te.verify_width_certificate(
                net, ISSUE_TEMPLATES, dataclasses.replace(cert, row_tuples=rows[:, :1])
            )
        with pytest.raises(ValueError, match="row_modes must be distinct modes"):
            te.verify_width_certificate(
                net, ISSUE_TEMPLATES, dataclasses.replace(cert, row_modes=(0, 0))
            )
        forged = dataclasses.replace(cert, rank=cert.rank + 1)
        assert not te.verify_width_certificate(net, ISSUE_TEMPLATES, forged)


def test_diagnostic_warns_when_the_feature_matrix_falls_short():
    """ReLU features that vanish on some templates: F loses rank, the bound drops, and the
    result says what the theorem needs."""
    fmap = te.ReLUFeatures(2, A=np.eye(2), b=np.array([0.0, -2.0]))  # 2nd feature is 0 here
    net = te.TTNetwork.random(8, fmap, 2, random_state=0)
    with pytest.warns(te.CertificateWarning, match="the theorem's bound needs F of full column"):
        found = te.shallow_width_lower_bound(net, templates=ISSUE_TEMPLATES)
    diag = found.certificate.diagnostic
    assert diag.rank == 1 and diag.condition == math.inf and not diag.ok
    assert found.rank == 1
    ill = te.TTNetwork.random(4, te.LinearFeatures.identity(2), 2, random_state=0)
    close = np.array([[1.0, 0.0], [1.0, 1e-10]])
    with pytest.warns(te.CertificateWarning, match="condition number"):
        te.shallow_width_lower_bound(ill, templates=close)


def test_exact_errors_name_the_argument(tmp_path):
    net = te.TTNetwork.random(4, te.TrigFeatures(), rank=2, random_state=0)
    with pytest.raises(ValueError, match="exact rational values .* got TrigFeatures"):
        te.matricization_rank(net, templates=np.linspace(0, 1, 3), method="exact")
    soft = te.TTNetwork.random(4, te.LinearFeatures.identity(2), 2, xi="softplus")
    with pytest.raises(ValueError, match="supports xi in"):
        certify_matricization_rank(soft, ISSUE_TEMPLATES, exact=True)
    with pytest.raises(ValueError, match="black-box score function"):
        certify_matricization_rank(lambda X: X[:, 0, 0], templates=np.eye(2), d=2, exact=True)
    lin = te.TTNetwork.random(4, te.LinearFeatures.identity(2), rank=2, random_state=0)
    with pytest.raises(ValueError, match="entry_error is not used"):
        certify_matricization_rank(lin, exact=True, entry_error=0.1)
    ht = te.HTNetwork.random(4, te.LinearFeatures.identity(2), rank=2, random_state=0)
    with pytest.raises(ValueError, match="an exact submatrix of up to"):
        certify_matricization_rank(ht, exact=True, max_size=10**6)
    with pytest.raises(TypeError, match="exact must be a bool"):
        certify_matricization_rank(lin, exact="yes")


@pytest.mark.parametrize("name", ["cert.json", "cert.npz"])
def test_exact_certificate_saves_and_loads(tmp_path, name):
    net = te.HTNetwork.random(4, te.LinearFeatures.identity(2), 2, random_state=1)
    cert = certify_matricization_rank(net, ISSUE_TEMPLATES, exact=True)
    path = tmp_path / name
    path.write_text("an older file")
    loaded = WidthCertificate.load(cert.save(path))
    assert loaded.exact and loaded.prime == cert.prime and loaded.rank == cert.rank == 4
    assert loaded.diagnostic == cert.diagnostic
    assert te.verify_width_certificate(net, ISSUE_TEMPLATES, loaded)
    assert not list(tmp_path.glob(".*tmp"))  # the temporary file was renamed over the old one


@pytest.mark.parametrize(("d", "seed"), [(8, 0), (8, 1), (12, 4), (16, 2)])
def test_kronecker_certificate_agrees_with_elimination(d, seed):
    """Full rank from the two blocks at the middle bond, checked against the elimination of
    the whole submatrix (the independent verification path) on the same tuples."""
    net = te.TTNetwork.random(d, te.LinearFeatures.identity(2), 2, random_state=seed)
    cert = certify_matricization_rank(net, ISSUE_TEMPLATES, exact=True)
    assert cert.selection == "structured+kronecker" and cert.rank == 2 ** (d // 2)
    check = te.verify_width_certificate(net, ISSUE_TEMPLATES, cert)
    assert check.valid and check.rank == cert.rank


def test_kronecker_argument_declines_a_singular_matrix():
    """Halves built so that B = A (x) B_1 - A (x) B_1 = 0: the characteristic polynomials share
    every root, the argument does not decide, and elimination finds rank 0."""
    net = te.TTNetwork.random(8, te.LinearFeatures.identity(2), 2, random_state=0)
    cores = [c.copy() for c in net.cores]
    cores[3][:, :, 1] = cores[3][:, :, 0]
    cores[4][1] = -cores[4][0]
    zero = te.TTNetwork(cores, net.feature_map)
    cert = certify_matricization_rank(zero, ISSUE_TEMPLATES, exact=True)
    assert cert.selection == "structured" and cert.rank == 0
    # the float grid is rounding noise (~1e-17), full rank to a relative tolerance: the exact
    # rank is the one that says what the tensor is
    assert np.abs(zero.grid_tensor(ISSUE_TEMPLATES)).max() < 1e-15


def test_theorem1_rank_at_d28_in_a_second():
    """The issue's goal beyond: d = 28, rank 2^14 = 16384 = min(m, r)^(d/2)."""
    net = te.TTNetwork.random(28, te.LinearFeatures.identity(2), 2, random_state=4)
    found = te.shallow_width_lower_bound(net, templates=ISSUE_TEMPLATES)
    assert found.method == "exact" and found.bound == 16384
    assert found.certificate.shape == (16384, 16384)
