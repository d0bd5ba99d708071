"""tt_svd, ht_svd and cp on dask arrays (issue 21): against the in-memory path on the same
tensor, on a zarr store, on a real distributed.LocalCluster (a worker killed mid-run
included), passes counted, and bad input refused with a message naming the chunk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from tensorly.cp_tensor import cp_to_tensor
from tensorly.tt_tensor import tt_to_tensor

import tensorexpr as te

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

SHAPE, CHUNKS, RANK, NOISE = (9, 10, 11, 12), (4, 5, 6, 5), 3, 1e-6


def _noisy(signal, rng):
    noise = rng.standard_normal(signal.shape)
    return signal + NOISE * np.linalg.norm(signal) / np.linalg.norm(noise) * noise


@pytest.fixture(scope="module")
def tt_tensor():
    rng = np.random.default_rng(0)
    ranks = [1] + [RANK] * (len(SHAPE) - 1) + [1]
    cores = [rng.standard_normal((ranks[k], n, ranks[k + 1])) for k, n in enumerate(SHAPE)]
    return _noisy(tt_to_tensor(cores), rng)


@pytest.fixture(scope="module")
def cp_tensor():
    rng = np.random.default_rng(1)
    factors = [rng.standard_normal((n, RANK)) for n in SHAPE]
    return _noisy(cp_to_tensor((np.ones(RANK), factors)), rng)


def _rel(approx, tensor):
    return float(np.linalg.norm(np.asarray(approx) - tensor) / np.linalg.norm(tensor))


def test_importing_tensorexpr_does_not_import_dask():
    code = "import sys, tensorexpr, tensorexpr.decomposition; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("function", [te.tt_svd, te.ht_svd])
def test_dask_path_matches_the_in_memory_one(tt_tensor, function):
    chunked = da.from_array(tt_tensor, chunks=CHUNKS)
    lazy, dense = function(chunked, tol=1e-4), function(tt_tensor, tol=1e-4)
    assert type(lazy) is type(dense)
    ranks = (lambda t: t.rank) if function is te.tt_svd else (lambda t: t.ranks)
    assert ranks(lazy) == ranks(dense)
    error, best = _rel(lazy.to_tensor(), tt_tensor), _rel(dense.to_tensor(), tt_tensor)
    assert error <= 1e-4
    assert error <= 2 * best


@pytest.mark.parametrize("tol", [0.3, 1e-7])
def test_error_bound_holds_when_the_sketch_must_grow(tol):
    # a random tensor: ranks far above half the first sketch (doubling), and a tolerance below
    # the Pythagorean subtraction's reach (the entry-by-entry residual pass)
    tensor = np.random.default_rng(2).standard_normal((6, 7, 8, 9))
    tt = te.tt_svd(da.from_array(tensor, chunks=(3, 4, 5, 4)), tol=tol)
    assert _rel(tt.to_tensor(), tensor) <= tol
    assert max(tt.rank) > 12


def test_tt_rank_caps_without_tolerance(tt_tensor):
    tt = te.tt_svd(da.from_array(tt_tensor, chunks=CHUNKS), rank=2)
    assert max(tt.rank) == 2
    # a rank-2 TT of a rank-3 tensor: no better than the in-memory TT-SVD's quasi-optimal one / 2
    best = _rel(te.tt_svd(tt_tensor, rank=2).to_tensor(), tt_tensor)
    assert best / 2 <= _rel(tt.to_tensor(), tt_tensor) <= 2 * best


def test_cp_matches_the_in_memory_one_and_reports_its_error(cp_tensor):
    lazy = te.cp(da.from_array(cp_tensor, chunks=CHUNKS), rank=RANK, random_state=0)
    dense = te.cp(cp_tensor, rank=RANK, random_state=0)
    brute = _rel(lazy.cp_tensor.to_tensor(), cp_tensor)
    # the reported error is the true one
    assert lazy.relative_error == pytest.approx(brute, rel=1e-3)
    assert brute <= 1.05 * dense.relative_error


def test_cp_correction_pass_recovers_what_the_core_missed():
    # modes of 24-27 compressed to rank + 10 = 13 columns: the core alone misses signal at the
    # noise's level (about 1.5-2x the ALS error); the third pass's correction recovers it
    rng = np.random.default_rng(3)
    shape = (24, 25, 26, 27)
    tensor = _noisy(
        cp_to_tensor((np.ones(RANK), [rng.standard_normal((n, RANK)) for n in shape])), rng
    )
    lazy = te.cp(da.from_array(tensor, chunks=(12, 13, 13, 14)), rank=RANK, random_state=0)
    dense = te.cp(tensor, rank=RANK, random_state=0)
    brute = _rel(lazy.cp_tensor.to_tensor(), tensor)
    assert lazy.relative_error == pytest.approx(brute, rel=1e-3)
    assert brute <= 1.05 * dense.relative_error


def test_float32_stays_float32(tt_tensor):
    tt = te.tt_svd(da.from_array(tt_tensor.astype(np.float32), chunks=CHUNKS), tol=1e-3)
    assert all(core.dtype == np.float32 for core in tt.factors)
    assert _rel(tt.to_tensor(), tt_tensor) <= 1e-3


def test_zarr_store_in_a_folder(tmp_path, tt_tensor):
    zarr = pytest.importorskip("zarr")
    store = zarr.open(str(tmp_path / "t.zarr"), mode="w", shape=SHAPE, chunks=CHUNKS, dtype="f8")
    store[...] = tt_tensor
    tt = te.tt_svd(da.from_zarr(str(tmp_path / "t.zarr")), tol=1e-4)
    assert tt.rank == (1, RANK, RANK, RANK, 1)
    assert _rel(tt.to_tensor(), tt_tensor) <= 1e-4


def _counting_chunks(tensor):
    """``tensor`` as a dask array that records the location of every chunk it generates."""
    seen = []

    def generate(block, block_info=None):
        seen.append(tuple(block_info[0]["chunk-location"]))
        return block

    return da.from_array(tensor, chunks=CHUNKS).map_blocks(generate, dtype=np.float64), seen


def test_two_passes_over_the_data(tt_tensor):
    chunked, seen = _counting_chunks(tt_tensor)
    te.tt_svd(chunked, tol=1e-4)
    n_chunks = int(np.prod(chunked.numblocks))
    assert len(seen) == 2 * n_chunks
    assert len(set(seen)) == n_chunks


def test_three_passes_for_cp(cp_tensor):
    chunked, seen = _counting_chunks(cp_tensor)
    te.cp(chunked, rank=RANK, random_state=0)
    assert len(seen) == 3 * int(np.prod(chunked.numblocks))


def _dense_interfaces(cores, left):
    """Psi_{<k} (``left``) or Omega_{>k} of Gaussian TT cores, as explicit matrices, by einsum."""
    out, part = [], np.ones((1, 1))
    order = cores if left else cores[::-1]
    for core in order:
        if left:
            part = np.einsum("pa,aib->pib", part, core).reshape(-1, core.shape[2])
        else:
            part = np.einsum("aib,pb->ipa", core, part).reshape(-1, core.shape[0])
        out.append(part)
    return out


@pytest.mark.parametrize("shape", [(6, 7, 8, 9), (5, 4), (3, 4, 5, 2, 3), (4, 3, 5, 6, 2, 3)])
def test_chunk_sketches_sum_to_the_dense_two_sided_sketch(shape):
    # the streaming pass's Y_k = Psi_{<k}^T X_<k> Omega_{>k} over uneven chunks, against the
    # sketch matrices written out in full and applied to the whole tensor
    from tensorexpr.decomposition import _dask

    rng = np.random.default_rng(len(shape))
    tensor = rng.standard_normal(shape)
    omega, psi = _dask._tt_sketch_cores(shape, 5, rng)
    chunks = tuple(max(1, n // 2 - 1) for n in shape)
    *sketches, norm2 = _dask._one_pass(
        da.from_array(tensor, chunks=chunks), _dask._tt_sketch_chunk, (shape, omega, psi)
    )
    lefts = [np.ones((1, 1))] + _dense_interfaces(psi, left=True)
    rights = _dense_interfaces(omega[1:], left=False)[::-1] + [np.ones((1, 1))]
    for k, y in enumerate(sketches):
        unfolded = tensor.reshape(lefts[k].shape[0], shape[k], -1)
        expected = np.einsum("pa,piq,qc->aic", lefts[k], unfolded, rights[k])
        np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)
    assert float(norm2) == pytest.approx(float(np.sum(tensor**2)), rel=1e-12)


# ----------------------------------------------------------------------------- bad input


def test_declared_dtype_must_be_real():
    with pytest.raises(TypeError, match="tensor must be a dask array of real numbers"):
        te.tt_svd(da.zeros(SHAPE, chunks=CHUNKS, dtype=object), tol=0.1)
    with pytest.raises(TypeError, match="complex"):
        te.cp(da.zeros(SHAPE, chunks=CHUNKS, dtype=complex), rank=2)


def test_a_chunk_of_another_dtype_than_declared_is_named(tt_tensor):
    def lying(block, block_info=None):
        if block_info[0]["chunk-location"] == (1, 0, 1, 0):
            return block.astype(np.int64)
        return block

    chunked = da.from_array(tt_tensor, chunks=CHUNKS).map_blocks(lying, dtype=np.float64)
    with pytest.raises(TypeError, match=r"chunk \(1, 0, 1, 0\) holds int64.*declares"):
        te.tt_svd(chunked, tol=1e-4)


@pytest.mark.parametrize("function", [te.tt_svd, te.ht_svd, te.cp])
def test_nan_inside_one_chunk_is_named(tt_tensor, function):
    bad = tt_tensor.copy()
    bad[5, 6, 7, 8] = np.nan  # chunk (1, 1, 1, 1)
    chunked = da.from_array(bad, chunks=CHUNKS)
    kwargs = {"rank": 2} if function is te.cp else {"tol": 1e-4}
    with pytest.raises(ValueError, match=r"finite values .*chunk \(1, 1, 1, 1\)"):
        function(chunked, **kwargs)


def test_tolerance_or_rank_is_required(tt_tensor):
    chunked = da.from_array(tt_tensor, chunks=CHUNKS)
    with pytest.raises(ValueError, match="tol or rank must be given"):
        te.tt_svd(chunked)
    with pytest.raises(ValueError, match="tol must be given"):
        te.ht_svd(chunked, rank=3)


def test_in_memory_part_too_large_is_refused():
    huge = da.zeros((30,) * 16, chunks=(30,) * 16)  # lazily: never allocated
    with pytest.raises(ValueError, match=r"rank=5: the compressed CP core .* more than"):
        te.cp(huge, rank=5)


# ----------------------------------------------------------------------------- distributed


@pytest.fixture(scope="module")
def cluster():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as local,
        distributed.Client(local) as client,
    ):
        yield local, client


def test_local_cluster_gives_the_threads_result(cluster, tt_tensor):
    chunked = da.from_array(tt_tensor, chunks=CHUNKS)
    on_cluster = te.tt_svd(chunked, tol=1e-4)
    with _threads():
        on_threads = te.tt_svd(chunked, tol=1e-4)
    assert on_cluster.rank == on_threads.rank
    np.testing.assert_allclose(on_cluster.to_tensor(), on_threads.to_tensor(), atol=1e-10)


def _threads():
    import dask

    return dask.config.set(scheduler="threads")


def _slow(block):
    time.sleep(0.05)
    return block


def test_worker_killed_mid_run_gives_the_right_result(cluster, tt_tensor):
    local, client = cluster
    chunked = da.from_array(tt_tensor, chunks=(3, 5, 4, 4)).map_blocks(_slow, dtype=np.float64)
    with _threads():
        expected = te.tt_svd(chunked, tol=1e-4)
    result = {}
    run = threading.Thread(target=lambda: result.setdefault("tt", te.tt_svd(chunked, tol=1e-4)))
    run.start()
    time.sleep(1.0)
    assert run.is_alive(), "the computation ended before the kill: make the chunks slower"
    nanny = next(iter(local.workers.values()))
    os.kill(nanny.process.process.pid, signal.SIGKILL)
    run.join(timeout=120)
    assert not run.is_alive()
    assert result["tt"].rank == expected.rank
    np.testing.assert_allclose(result["tt"].to_tensor(), expected.to_tensor(), atol=1e-10)
