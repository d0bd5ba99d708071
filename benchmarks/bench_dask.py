"""Tensors larger than memory: tt_svd, ht_svd and cp on Dask arrays, in one run (issue 21).

The tensor is generated lazily chunk by chunk (``dask.array.map_blocks``): a random TT of rank
5 (or a CP of rank 5) plus Gaussian noise of relative norm 1e-6, drawn per chunk from a
generator seeded by ``(seed, chunk number)``, so that any entry can be recomputed (the held-out
check regenerates the noise of the chunks it samples). A LocalCluster of 2 single-threaded
workers computes; printed per method: wall time, its ratio to the floor (one pass that only
generates the chunks and sums their squares), passes over the data (chunk generations counted
by the generator itself, divided by the number of chunks), ranks, relative error on 10^5
random held-out entries, and the peak resident memory of all processes (client, nanny and
workers, psutil, sampled every 0.1 s).

Then, on a tensor that fits in memory (10^8 entries by default), the Dask path against the
in-memory one on the same tensor: ranks, relative errors (exact, on the whole tensor), times.

Run (from the repository root, tensorexpr[dask] installed):
python -u benchmarks/bench_dask.py [--entries 5e9] [--small 1e8] [--skip-large] [--kinds tt cp]
"""

from __future__ import annotations

import argparse
import importlib
import logging
import math
import os
import tempfile
import threading
import time

import numpy as np
import psutil
from tensorly.cp_tensor import cp_to_tensor

import tensorexpr as te

RANK, NOISE, SEED, TOL = 5, 1e-6, 0, 1e-4


def _tt_norm(cores):
    """Frobenius norm of a TT from its cores (no full tensor)."""
    gram = np.ones((1, 1))
    for core in cores:
        gram = np.einsum("ab,aic,bid->cd", gram, core, core)
    return math.sqrt(float(gram[0, 0]))


class LazyTensor:
    """A TT (or CP) of rank 5 plus noise whose chunks and entries are computed on demand."""

    def __init__(self, shape, chunk, kind, counter_path):
        rng = np.random.default_rng(SEED)
        self.shape, self.chunk, self.kind, self.counter_path = shape, chunk, kind, counter_path
        if kind == "tt":
            ranks = [1] + [RANK] * (len(shape) - 1) + [1]
            self.cores = [
                rng.standard_normal((ranks[k], n, ranks[k + 1])) / math.sqrt(n * RANK)
                for k, n in enumerate(shape)
            ]
            norm = _tt_norm(self.cores)
        else:
            self.factors = [rng.standard_normal((n, RANK)) / math.sqrt(n) for n in shape]
            grams = np.prod([f.T @ f for f in self.factors], axis=0)
            norm = math.sqrt(float(np.sum(grams)))
        self.sigma = NOISE * norm / math.sqrt(math.prod(shape))
        self.grid = tuple(math.ceil(n / c) for n, c in zip(shape, chunk, strict=True))

    def array(self):
        import dask.array as da

        chunks = tuple(
            tuple(min(c, n - s) for s in range(0, n, c))
            for n, c in zip(self.shape, self.chunk, strict=True)
        )
        return da.map_blocks(
            self.block, chunks=chunks, dtype=np.float64, meta=np.empty((0,) * len(self.shape))
        )

    def _noise(self, block_id, block_shape):
        number = int(np.ravel_multi_index(block_id, self.grid))
        return self.sigma * np.random.default_rng([SEED, number]).standard_normal(block_shape)

    def signal(self, ranges):
        """The noiseless tensor on a box (one slice per mode)."""
        if self.kind == "tt":
            part = np.ones((1, 1))
            for core, r in zip(self.cores, ranges, strict=True):
                c = core[:, r, :]
                part = (part @ c.reshape(c.shape[0], -1)).reshape(-1, c.shape[2])
            return part.reshape(
                [len(range(*r.indices(n))) for r, n in zip(ranges, self.shape, strict=True)]
            )
        return cp_to_tensor((None, [f[r] for f, r in zip(self.factors, ranges, strict=True)]))

    def block(self, block_info=None):
        info = block_info[None]
        ranges = [slice(a, b) for a, b in info["array-location"]]
        values = self.signal(ranges)
        with open(self.counter_path, "ab") as counter:  # one byte per chunk generated
            counter.write(b"x")
        return values + self._noise(info["chunk-location"], values.shape)

    def entries(self, index):
        """Entries at integer index arrays (n_samples, d): signal from the factors, noise from
        the chunks holding them, regenerated one at a time."""
        if self.kind == "tt":
            part = np.ones((len(index), 1))
            for k, core in enumerate(self.cores):
                part = np.einsum("sa,asb->sb", part, core[:, index[:, k], :])
            values = part[:, 0]
        else:
            values = np.prod([f[index[:, k]] for k, f in enumerate(self.factors)], axis=0).sum(1)
        block_of = index // np.array(self.chunk)
        for bid in np.unique(block_of, axis=0):
            inside = np.all(block_of == bid, axis=1)
            box = [min(c, n - b * c) for b, c, n in zip(bid, self.chunk, self.shape, strict=True)]
            noise = self._noise(tuple(bid), box)
            values[inside] += noise[tuple((index[inside] - bid * np.array(self.chunk)).T)]
        return values

    def generations(self):
        return os.path.getsize(self.counter_path) if os.path.exists(self.counter_path) else 0


class PeakMemory:
    """Peak of the summed resident memory of this process and all its descendants."""

    def __init__(self, interval=0.1):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        self.peak = max(self.peak, total)

    def _run(self):
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self):
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def held_out_error(lazy, approx_entries, n=10**5):
    rng = np.random.default_rng(SEED + 1)
    index = np.stack([rng.integers(0, m, n) for m in lazy.shape], axis=1)
    exact = lazy.entries(index)
    return float(np.linalg.norm(approx_entries(index) - exact) / np.linalg.norm(exact))


def tt_entries_at(cores, index):
    part = np.ones((len(index), 1))
    for k, core in enumerate(cores):
        part = np.einsum("sa,asb->sb", part, np.asarray(core)[:, index[:, k], :])
    return part[:, 0]


def cp_entries_at(cp_tensor, index):
    weights, factors = cp_tensor
    return (np.asarray(weights) * np.prod([f[index[:, k]] for k, f in enumerate(factors)], 0)).sum(
        1
    )


def methods(kind):
    """The decompositions run on a tensor of each kind, with the benchmark's settings."""
    if kind == "tt":
        return [
            ("tt_svd", lambda x: te.tt_svd(x, tol=TOL)),
            ("ht_svd", lambda x: te.ht_svd(x, tol=TOL)),
        ]
    return [("cp", lambda x: te.cp(x, rank=RANK, random_state=0))]


def run(lazy, fn):
    """Wall time, passes, peak memory and result of ``fn(dask_array)``."""
    x = lazy.array()
    n_chunks = math.prod(x.numblocks)
    before = lazy.generations()
    with PeakMemory() as memory:
        start = time.perf_counter()
        result = fn(x)
        seconds = time.perf_counter() - start
    passes = (lazy.generations() - before) / n_chunks
    return result, seconds, passes, memory.peak


def shape_for(entries):
    """Five modes, about ``entries`` entries; chunks of about 5 10^6 entries along every mode."""
    n = round(entries ** (1 / 5))
    shape = (n,) * 4 + (max(2, round(entries / n**4)),)
    chunk = tuple(max(1, math.ceil(m / max(1, round((entries / 5e6) ** (1 / 5))))) for m in shape)
    return shape, chunk


def large(entries, client, folder, kinds):
    # workers import tensorexpr before any timing (the floor pass does not use it)
    client.run(importlib.import_module, "tensorexpr.decomposition._dask")
    shape, chunk = shape_for(entries)
    print(
        f"\n== {math.prod(shape):.3g} entries ({8 * math.prod(shape) / 2**30:.1f} GiB), shape "
        f"{shape}, chunks {chunk}, LocalCluster of 2 workers x 1 thread =="
    )
    header = (
        f"{'method':>8} {'seconds':>8} {'x floor':>8} {'passes':>7} {'held-out err':>13} "
        f"{'peak RSS GiB':>13}  ranks"
    )
    for kind in kinds:
        lazy = LazyTensor(shape, chunk, kind, os.path.join(folder, f"count-{kind}"))
        _, floor, floor_passes, floor_peak = run(lazy, lambda x: float((x * x).sum()))
        print(
            f"\n{kind.upper()} rank-5 tensor + 1e-6 noise; floor pass: {floor:.1f} s "
            f"({floor_passes:.0f} pass, peak RSS {floor_peak / 2**30:.2f} GiB)"
        )
        print(header)
        for name, fn in methods(kind):
            result, seconds, passes, peak = run(lazy, fn)
            if name == "tt_svd":
                ranks, at = result.rank, lambda i, r=result: tt_entries_at(r.factors, i)
            elif name == "ht_svd":
                tt = te.ht_to_tt(result)
                ranks, at = result.ranks, lambda i, r=tt: tt_entries_at(r.factors, i)
            else:
                ranks, at = (
                    f"rank {RANK}, relative_error {result.relative_error:.2e}",
                    (lambda i, r=result.cp_tensor: cp_entries_at(r, i)),
                )
            err = held_out_error(lazy, at)
            print(
                f"{name:>8} {seconds:8.1f} {seconds / floor:8.2f} {passes:7.2f} {err:13.2e} "
                f"{peak / 2**30:13.2f}  {ranks}"
            )


def small(entries, folder, kinds):
    """The Dask path against the in-memory one on the same tensor (threads scheduler)."""
    import dask
    import dask.array as da

    shape, chunk = shape_for(entries)
    print(
        f"\n== in memory against Dask, {math.prod(shape):.3g} entries, shape {shape}, chunks "
        f"{chunk}, threads scheduler =="
    )
    print(f"{'method':>8} {'path':>7} {'seconds':>8} {'rel. error':>11}  ranks")
    for kind in kinds:
        lazy = LazyTensor(shape, chunk, kind, os.path.join(folder, f"small-{kind}"))
        x = lazy.array()
        with dask.config.set(scheduler="threads"):
            dense = x.compute()
        norm = np.linalg.norm(dense)
        # the same numbers both ways: the Dask path reads the computed tensor's chunks
        chunked = da.from_array(dense, chunks=x.chunks)
        for name, fn in methods(kind):
            times = {}
            for path, data in (("memory", dense), ("dask", chunked)):
                with dask.config.set(scheduler="threads"):
                    start = time.perf_counter()
                    result = fn(data)
                    times[path] = time.perf_counter() - start
                if name == "cp":
                    err, ranks = np.linalg.norm(result.cp_tensor.to_tensor() - dense) / norm, RANK
                else:
                    err = np.linalg.norm(np.asarray(result.to_tensor()) - dense) / norm
                    ranks = result.rank if name == "tt_svd" else result.ranks
                print(f"{name:>8} {path:>7} {times[path]:8.1f} {err:11.2e}  {ranks}")
            print(f"{'':>8} {'ratio':>7} {times['dask'] / times['memory']:8.2f}  (dask / memory)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=float, default=5e9)
    parser.add_argument("--small", type=float, default=1e8)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--kinds", nargs="+", choices=("tt", "cp"), default=("tt", "cp"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("tensorexpr.decomposition").setLevel(logging.INFO)
    from distributed import Client, LocalCluster

    with tempfile.TemporaryDirectory() as folder:
        if not args.skip_large:
            with (
                LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="2GiB") as cluster,
                Client(cluster) as client,
            ):
                large(args.entries, client, folder, args.kinds)
        small(args.small, folder, args.kinds)


if __name__ == "__main__":
    main()
