"""The backend layer: the one rule for foreign inputs, and ``backend_context``.

A foreign input is an array-like, or a TT / HT / CP factor list, made under another backend
than the current one (or as numpy arrays). Every public function converts it the same way
(``docs/backends.md``) or refuses it with one clear TypeError.
"""

from __future__ import annotations

import importlib.util
import threading

import numpy as np
import pytest
import tensorly as tl
from tensorly.tt_tensor import TTTensor

import tensorexpr as te

_MAKERS = {"numpy": np.asarray}
if importlib.util.find_spec("torch") is not None:
    import torch

    _MAKERS["pytorch"] = torch.tensor
if importlib.util.find_spec("jax") is not None:
    import jax

    jax.config.update("jax_enable_x64", True)
    _MAKERS["jax"] = jax.numpy.asarray
if importlib.util.find_spec("tensorflow") is not None:
    import tensorflow as tf

    _MAKERS["tensorflow"] = tf.constant


def _foreign(backend: str):
    """The sources that are foreign under ``backend``: numpy and every other installed one."""
    return [name for name in _MAKERS if name != backend]


def _is_current(tensor) -> bool:
    return tl.is_tensor(tensor)


def _tt_cores(rng, d=4, n=3, r=2):
    ranks = [1] + [r] * (d - 1) + [1]
    return [rng.standard_normal((ranks[k], n, ranks[k + 1])) for k in range(d)]


def test_dense_inputs_of_any_backend_are_converted(backend):
    rng = np.random.default_rng(0)
    with tl.backend_context("numpy"):
        full = TTTensor(_tt_cores(rng)).to_tensor()
    for source in _foreign(backend):
        x = _MAKERS[source](full)
        tt = te.tt_svd(x, tol=1e-10)
        assert all(_is_current(core) for core in tt.factors), source
        assert np.allclose(tl.to_numpy(tt.to_tensor()), full)
        ht = te.ht_svd(x, tol=1e-10)
        assert np.allclose(tl.to_numpy(ht.to_tensor()), full)
        fit = te.cp(x, 1, n_restarts=1, random_state=0, max_iter=2)
        cp_tensor = fit.cp_tensor
        assert all(_is_current(f) for f in cp_tensor.factors)
        odd = full.transpose(0, 2, 1, 3).reshape(9, 9)
        assert te.matricization_rank(x, "odd").rank == np.linalg.matrix_rank(odd)


def test_factor_lists_of_any_backend_are_converted(backend):
    rng = np.random.default_rng(1)
    cores = _tt_cores(rng)
    with tl.backend_context("numpy"):
        full = TTTensor(cores).to_tensor()
    for source in _foreign(backend):
        foreign = [_MAKERS[source](c) for c in cores]
        with te.backend_context(source):  # a TTTensor built under another backend
            foreign_tt = TTTensor(foreign)
        for tt in (foreign, foreign_tt):
            rounded = te.tt_round(tt, tol=1e-10)
            assert all(_is_current(core) for core in rounded.factors), source
            assert np.allclose(tl.to_numpy(rounded.to_tensor()), full)
        ht = te.tt_to_ht(foreign)
        assert np.allclose(tl.to_numpy(ht.to_tensor()), full)
        # an HT tensor whose factors were made under another backend
        with tl.backend_context("numpy"):
            numpy_ht = te.tt_to_ht(cores)
        with te.backend_context(source):
            foreign_ht = te.HTTensor(
                [_MAKERS[source](np.asarray(f)) for f in numpy_ht.factors], numpy_ht.tree
            )
        assert np.allclose(tl.to_numpy(te.ht_round(foreign_ht, tol=1e-10).to_tensor()), full)
        back = te.ht_to_tt(foreign_ht)
        assert all(_is_current(core) for core in back.factors)
        assert np.allclose(tl.to_numpy(back.to_tensor()), full)
        assert np.isclose(float(tl.to_numpy(foreign_ht.norm())), np.linalg.norm(full))
        assert np.allclose(tl.to_numpy(foreign_ht.to_tensor()), full)


def test_network_inputs_of_any_backend_are_converted(backend):
    net = te.TTNetwork.random(3, te.LinearFeatures(2, 2, random_state=0), 2, random_state=0)
    X = np.random.default_rng(2).standard_normal((5, 3, 2))
    with tl.backend_context("numpy"):
        expected = np.asarray(net(X))
    for source in _foreign(backend):
        out = net(_MAKERS[source](X))
        assert _is_current(out)
        assert np.allclose(tl.to_numpy(out), expected)
        feats = net.feature_map(_MAKERS[source](X[:, 0, :]))
        assert _is_current(feats)


def test_flipped_numpy_views_are_accepted(backend):
    """A numpy view with negative strides (what ``tl.flip`` returns on numpy) converts too."""
    full = np.arange(24.0).reshape(2, 3, 4)[:, ::-1, :]
    tt = te.tt_svd(full, tol=1e-12)
    assert np.allclose(tl.to_numpy(tt.to_tensor()), full)


@pytest.mark.parametrize(
    "call",
    [
        lambda: te.tt_svd("not a tensor"),
        lambda: te.tt_svd({"a": 1}),
        lambda: te.tt_svd(None),
        lambda: te.ht_svd(np.array([["a", "b"], ["c", "d"]])),
        lambda: te.cp(np.ones((2, 2)) * 1j, 1),
        lambda: te.tt_round(np.ones((1, 2, 1))),
        lambda: te.tt_round([np.ones((1, 2, 1)), "core"]),
        lambda: te.tt_to_ht("tt"),
        lambda: te.ht_round([np.ones((2, 1))]),
        lambda: te.ht_to_tt(np.ones((2, 2))),
        lambda: te.matricization_rank(object()),
    ],
)
def test_non_array_inputs_raise_one_clear_type_error(call):
    with pytest.raises(TypeError, match="must be"):
        call()


def test_feature_map_called_directly_refuses_nan(backend):
    fmap = te.ReLUFeatures(2, 3, random_state=0)
    bad = np.array([[0.0, np.nan]])
    with pytest.raises(ValueError, match="x must contain only finite values"):
        fmap(bad)
    with pytest.raises(ValueError, match="x must contain only finite values"):
        fmap(tl.tensor(bad))  # a tensor of the current backend is checked too
    with pytest.raises(ValueError, match="x must contain only finite values"):
        te.PolynomialFeatures(1, degree=2)(tl.tensor([[np.inf]]))


def test_backend_context_switches_and_restores():
    te.set_backend("numpy")
    with te.backend_context("pytorch"):
        assert te.get_backend() == "pytorch"
        assert type(te.tt_svd(np.ones((2, 3)), tol=0.5).factors[0]).__module__.startswith("torch")
    assert te.get_backend() == "numpy"
    with pytest.raises(RuntimeError, match="inside"):
        with te.backend_context("jax"):
            assert te.get_backend() == "jax"
            raise RuntimeError("inside")
    assert te.get_backend() == "numpy"
    with pytest.raises(ValueError, match="backend must be one of"):
        with te.backend_context("cupy-typo"):
            pass
    with pytest.raises(TypeError, match="backend must be one of"):
        with te.backend_context(3):
            pass


def test_backend_context_is_local_to_a_thread():
    """Two joblib-style worker threads each switch their own backend; the caller keeps numpy."""
    from joblib import Parallel, delayed

    te.set_backend("numpy")

    def work(name):
        with te.backend_context(name, local_threadsafe=True):
            tt = te.tt_svd(np.ones((2, 3, 2)), tol=0.5)
            return te.get_backend(), type(tt.factors[0]).__module__.split(".")[0]

    seen = Parallel(n_jobs=2, backend="threading")(
        delayed(work)(name) for name in ("pytorch", "numpy", "pytorch", "numpy")
    )
    assert [s[0] for s in seen] == ["pytorch", "numpy", "pytorch", "numpy"]
    assert [s[1] for s in seen] == ["torch", "numpy", "torch", "numpy"]
    assert te.get_backend() == "numpy"
    assert threading.current_thread() is threading.main_thread()
