"""The ``tensorexpr`` command: list and reproduce the papers' results."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["main"]


def _progress(iterable, total=None, desc=None):
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, dynamic_ncols=True)


def _cmd_list(args) -> int:
    from .experiments import _BUILTIN, list_experiments

    described = {exp.name: exp.description for exp in _BUILTIN}
    for name, exp in sorted(list_experiments().items()):
        desc = described.get(name) or getattr(exp, "description", None)
        if desc is None:
            try:
                desc = exp.load().description
            except Exception as err:  # an optional plugin that cannot load
                desc = f"(unavailable: {err})"
        print(f"{name:14s} {desc}")
    return 0


def _cmd_reproduce(args) -> int:
    from .experiments import get_experiment

    exp = get_experiment(args.name)
    out = Path(args.out)
    start = time.perf_counter()
    result = exp.run(quick=args.quick, seed=args.seed, progress=_progress)
    result.summary.setdefault("quick", args.quick)
    result.summary["seconds"] = round(time.perf_counter() - start, 2)
    paths = result.save(out)
    png = out / f"{exp.name}.png"
    exp.plot(result, png)
    paths.append(png)
    _print_table(result.rows)
    for key, value in result.summary.items():
        if not isinstance(value, (dict, list)):
            print(f"{key}: {value}")
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _print_table(rows, limit: int = 40) -> None:
    if not rows:
        return
    keys = list(rows[0])
    cells = [[_fmt(row.get(k)) for k in keys] for row in rows[:limit]]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    print("  ".join(k.rjust(w) for k, w in zip(keys, widths, strict=True)))
    for c in cells:
        print("  ".join(v.rjust(w) for v, w in zip(c, widths, strict=True)))
    if len(rows) > limit:
        print(f"... {len(rows) - limit} more rows in the CSV")


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tensorexpr",
        description="Expressive power of tensor networks: reproduce and analyse.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="name the reproducible results").set_defaults(func=_cmd_list)
    rep = sub.add_parser("reproduce", help="run one result: table (CSV/JSON) and figure (PNG)")
    rep.add_argument("name", help="experiment name (see `tensorexpr list`)")
    rep.add_argument("--quick", action="store_true", help="small settings, for CI")
    rep.add_argument("--seed", type=int, default=0, help="base random seed (default 0)")
    rep.add_argument("--out", default="results", help="output folder (default ./results)")
    rep.set_defaults(func=_cmd_reproduce)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError) as err:
        print(f"tensorexpr: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
