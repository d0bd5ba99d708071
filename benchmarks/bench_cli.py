"""Start-up time of the ``tensorexpr`` command: ``--version``, ``--help``, ``list``,
``reproduce --help`` and ``analyze --help``, each run ``--repeat`` times in a fresh process.

    python benchmarks/bench_cli.py [--repeat 10] [--tree PATH]

``--tree`` times the command of another checkout (e.g. the main branch, for a before/after),
put first on ``PYTHONPATH``. Prints the median and the fastest wall time of each, in seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = (
    ["--version"],
    ["--help"],
    ["list"],
    ["reproduce", "--help"],
    ["analyze", "--help"],
)


def time_command(words: list[str], tree: Path, repeat: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(tree) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "tensorexpr", *words], capture_output=True, env=env, cwd=tree
        )
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"tensorexpr {' '.join(words)} failed:\n{done.stderr.decode()}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    time_command(["--version"], args.tree, 1)  # warm the file caches
    python = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        python.append(time.perf_counter() - start)
    print(f"tree: {args.tree}; {args.repeat} runs each; seconds (median / fastest)")
    print(f"{'python -c pass':32s} {statistics.median(python):6.3f} / {min(python):6.3f}")
    for words in COMMANDS:
        times = time_command(words, args.tree, args.repeat)
        label = "tensorexpr " + " ".join(words)
        print(f"{label:32s} {statistics.median(times):6.3f} / {min(times):6.3f}")


if __name__ == "__main__":
    main()
