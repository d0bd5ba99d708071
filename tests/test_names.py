"""One meaning per public name (docs/api.rst, "One meaning per name"): the signatures follow the
table, and every renamed name still works for one release, with a FutureWarning that points at
the caller's line."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import tensorly as tl

import tensorexpr as te
from tensorexpr.validation import check_verbose

HILBERT = lambda idx: 1.0 / (1.0 + idx.sum(axis=1))  # noqa: E731
#: the analysis functions, whose first argument (the analysed input) is ``source``, and the
#: old name of that argument (None: always ``source``)
ANALYSIS_INPUT_OLD_NAMES = {
    "matricization_rank": "tensor_or_network",
    "shallow_width_lower_bound": "network_or_tensor",
    "certify_matricization_rank": None,
    "verify_width_certificate": "network_or_fn",
}


def _public_callables():
    for name in te.__all__:
        obj = getattr(te, name)
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj):
            yield name, obj.__init__
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and isinstance(member, (staticmethod, classmethod)):
                    yield f"{name}.{attr}", getattr(obj, attr)


@pytest.mark.parametrize(("name", "function"), list(_public_callables()))
def test_signatures_follow_the_table(name, function):
    params = inspect.signature(function).parameters
    # the iteration cap is max_iter; n_iter_max survives only as the deprecated old name
    if "n_iter_max" in params:
        assert params["n_iter_max"].default == "deprecated", name
        assert "max_iter" in params, name
    # verbose is an int level, 0 silent
    if "verbose" in params:
        assert params["verbose"].default == 0 and type(params["verbose"].default) is int, name
    # randomness is random_state, never seed / rng
    assert not {"seed", "rng", "random_seed"} & set(params), name
    # the singular-value threshold of the analysis functions is atol; tol is a relative error
    if "atol" in params:
        assert "tol" not in params or params["tol"].default == "deprecated", name
    # the analysed input is source; its old names survive only as deprecated keywords
    for old in filter(None, ANALYSIS_INPUT_OLD_NAMES.values()):
        if old in params:
            assert params[old].default == "deprecated" and "source" in params, name
    if name in ANALYSIS_INPUT_OLD_NAMES:
        assert next(iter(params)) == "source", name


def _caught(function):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = function()
    future = [w for w in caught if issubclass(w.category, FutureWarning)]
    return value, future


def test_old_keyword_names_warn_and_mean_the_same():
    new = te.tt_cross(HILBERT, (6,) * 4, tol=1e-6, max_iter=10, random_state=0)
    old, future = _caught(
        lambda: te.tt_cross(HILBERT, (6,) * 4, tol=1e-6, n_iter_max=10, random_state=0)
    )
    assert old.relative_error == new.relative_error and old.n_evals == new.n_evals
    assert len(future) == 1 and "max_iter" in str(future[0].message)
    assert future[0].filename == __file__

    x = np.arange(1.0, 4.0)
    tensor = np.einsum("i,j,k->ijk", x, x + 1, x - 2)
    new = te.cp(tensor, 1, random_state=0, max_iter=5)
    old, future = _caught(lambda: te.cp(tensor, 1, random_state=0, n_iter_max=5))
    assert old.relative_error == new.relative_error
    assert len(future) == 1 and future[0].filename == __file__
    rank, future = _caught(lambda: te.cp_rank(tensor, 1e-6, random_state=0, n_iter_max=50))
    assert rank.rank == 1 and len(future) == 1

    idx = np.argwhere(np.random.default_rng(0).random(tensor.shape) < 0.8)
    args = (idx, tensor[tuple(idx.T)], tensor.shape)
    for complete in (te.tt_complete, te.ht_complete, te.cp_complete):
        new = complete(*args, rank=1, max_iter=3, random_state=0)
        old, future = _caught(lambda c=complete: c(*args, rank=1, n_iter_max=3, random_state=0))
        assert old.train_errors == new.train_errors, complete.__name__
        assert len(future) == 1 and future[0].filename == __file__


def test_the_singular_value_threshold_is_atol():
    T = np.diag([1.0, 1e-3, 1e-9]).reshape(3, 3)
    found = te.matricization_rank(T, [0], atol=1e-6)
    assert found.rank == 2 == np.linalg.matrix_rank(T, tol=1e-6) and found.atol == 1e-6
    old, future = _caught(lambda: te.matricization_rank(T, [0], tol=1e-6))
    assert old.rank == 2 and len(future) == 1 and future[0].filename == __file__
    assert "atol" in str(future[0].message)
    value, future = _caught(lambda: old.tol)
    assert value == 1e-6 and len(future) == 1
    bound, future = _caught(lambda: te.shallow_width_lower_bound(T, tol=1e-2))
    assert bound.bound == 1 == te.shallow_width_lower_bound(T, atol=1e-2).bound
    assert len(future) == 1 and future[0].filename == __file__
    assert _caught(lambda: bound.tol)[0] == bound.atol == 1e-2


def test_the_old_names_of_the_analysed_input_warn_and_mean_the_same():
    T = np.diag([1.0, 1e-3, 1e-9]).reshape(3, 3)
    new = te.matricization_rank(source=T, row_modes=[0])
    old, future = _caught(lambda: te.matricization_rank(tensor_or_network=T, row_modes=[0]))
    assert old.rank == new.rank == te.matricization_rank(T, [0]).rank == 3
    assert len(future) == 1 and future[0].filename == __file__
    assert "source" in str(future[0].message)
    new = te.shallow_width_lower_bound(source=T, atol=1e-2)
    old, future = _caught(lambda: te.shallow_width_lower_bound(network_or_tensor=T, atol=1e-2))
    assert old.bound == new.bound == 1 and len(future) == 1 and future[0].filename == __file__

    net = te.TTNetwork.random(4, te.LinearFeatures.identity(2), rank=2, random_state=0)
    cert = te.certify_matricization_rank(source=net)
    new = te.verify_width_certificate(source=net, templates=None, certificate=cert)
    old, future = _caught(
        lambda: te.verify_width_certificate(network_or_fn=net, templates=None, certificate=cert)
    )
    assert old == new and bool(old) and len(future) == 1 and future[0].filename == __file__
    with pytest.raises(TypeError, match="both 'source' and its old name 'network_or_fn'"):
        te.verify_width_certificate(net, None, cert, network_or_fn=net)
    with pytest.raises(TypeError, match="missing 1 required argument: 'source'"):
        te.matricization_rank(row_modes=[0])


def test_the_iteration_cap_is_checked_under_its_new_name():
    with pytest.raises(ValueError, match="max_iter"):
        te.cp(np.ones((2, 2)), 1, max_iter=0)
    with pytest.raises(TypeError, match="max_iter"):
        te.tt_complete(np.ones((3, 3)), mask=np.ones((3, 3), bool), max_iter=1.5)


def test_cp_and_tt_cross_return_result_objects_that_still_unpack():
    tensor = np.einsum("i,j,k->ijk", np.arange(1.0, 4.0), np.ones(2), np.arange(1.0, 5.0))
    result = te.cp(tensor, 1, random_state=0)
    assert isinstance(result, te.CPResult)
    direct = np.linalg.norm(tl.cp_to_tensor(result.cp_tensor) - tensor) / np.linalg.norm(tensor)
    assert result.relative_error == pytest.approx(direct, abs=1e-12)
    assert result.relative_error == min(result.restart_errors) and len(result.restart_errors) == 3
    (cp_tensor, error), future = _caught(lambda: tuple(result))
    assert cp_tensor is result.cp_tensor and error == result.relative_error
    assert len(future) == 1 and "unpacking" in str(future[0].message)
    first, future = _caught(lambda: result[1])
    assert first == result.relative_error and len(future) == 1

    info = te.tt_cross(HILBERT, (6,) * 4, tol=1e-6, random_state=0)
    assert isinstance(info, te.CrossResult) and info.converged
    idx = np.random.default_rng(1).integers(0, 6, size=(200, 4))
    approx = tl.to_numpy(te.cross.tt_entries(info.tensor, idx))
    assert np.linalg.norm(approx - HILBERT(idx)) / np.linalg.norm(HILBERT(idx)) <= 1e-5
    (tt, same), future = _caught(lambda: tuple(info))
    assert tt is info.tensor and same is info and len(future) == 1


def test_old_result_attributes_warn_and_read_the_new_ones():
    x = np.arange(1.0, 4.0)
    tensor = np.einsum("i,j,k->ijk", x, x, x)
    found = te.cp_rank(tensor, 1e-8, random_state=0)
    model = te.CP(rank=1, random_state=0).fit(tensor)
    info = te.tt_cross(HILBERT, (6,) * 4, tol=1e-6, random_state=0)
    idx = np.argwhere(np.random.default_rng(0).random(tensor.shape) < 0.8)
    completed = te.tt_complete(idx, tensor[tuple(idx.T)], tensor.shape, tol=1e-8, random_state=0)
    for obj, old, new in [
        (found, "rel_error", "relative_error"),
        (model, "rel_error_", "relative_error_"),
        (info, "error", "relative_error"),
        (completed, "validation_error", "relative_error"),
    ]:
        value, future = _caught(lambda o=obj, a=old: getattr(o, a))
        assert value == getattr(obj, new), old
        assert len(future) == 1 and future[0].filename == __file__, old
        assert new in str(future[0].message)


def test_verbose_is_an_int_level(capsys):
    info = te.tt_cross(HILBERT, (5,) * 4, tol=1e-6, random_state=0, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(info.errors) and all(line.startswith("tt_cross:") for line in lines)
    te.tt_cross(HILBERT, (5,) * 4, tol=1e-6, random_state=0, verbose=0)
    assert capsys.readouterr().out == ""
    assert check_verbose(True) == 1 and check_verbose(2) == 2
    for bad in (-1, "yes", 0.5, None):
        with pytest.raises(TypeError, match="verbose must be an int >= 0"):
            check_verbose(bad)
    with pytest.raises(TypeError, match="verbose"):
        te.tt_cross(HILBERT, (5,) * 3, verbose="loud")


def test_fit_generalized_prints_one_line_per_restart(capsys):
    target = np.add.outer(np.arange(3.0), np.arange(3.0)) + 1.0
    fit = te.fit_generalized(
        target,
        "cp",
        rank=1,
        xi="relu_sum",
        tol=1e-12,
        max_iter=50,
        n_restarts=2,
        random_state=0,
        verbose=1,
    )
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == fit.n_restarts == 2
    assert all(line.startswith("fit_generalized: restart") for line in lines)
    assert f"{fit.restart_errors[1]:.3e}" in lines[1]


def test_ht_network_rank_is_an_int_or_one_per_node_as_in_ht_svd():
    fm = te.LinearFeatures.identity(3)
    tree = te.DimensionTree.balanced(4)  # post-order: leaves 0, 1, node 2, leaves 3, 4, 5, root
    same = te.HTNetwork.random(4, fm, [2] * 6, tree=tree, random_state=0)
    ref = te.HTNetwork.random(4, fm, 2, tree=tree, random_state=0)
    for a, b in zip(same.factors, ref.factors, strict=True):
        np.testing.assert_array_equal(a, b)
    net = te.HTNetwork.random(4, fm, [3, 3, 2, 3, 3, 3, 1], tree=tree, random_state=0)
    assert net.ranks == (3, 3, 2, 3, 3, 3, 1)
    # the rank of the node over modes {0, 1} bounds that matricization of W (theorem)
    W = tl.to_numpy(net.coefficient_tensor())
    assert np.linalg.matrix_rank(W.reshape(9, 9)) <= 2
    assert te.ht_svd(W, tree=tree, rank=[3, 3, 2, 3, 3, 3, 1]).ranks[2] <= 2
    with pytest.raises(ValueError, match="must end with the root's n_outputs=1"):
        te.HTNetwork.random(4, fm, [2] * 7, tree=tree)
    with pytest.raises(ValueError, match="6 or 7 ints"):
        te.HTNetwork.random(4, fm, [2, 2], tree=tree)
