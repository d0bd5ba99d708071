"""The ``tensorexpr`` command: list and reproduce the papers' results, analyse networks."""

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
    from .experiments import list_experiments

    for name, exp in sorted(list_experiments().items()):
        # built-in experiments carry a description; entry points are loaded to get theirs
        desc = getattr(exp, "description", None)
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


def _analysed_network(args):
    """The network of ``tensorexpr analyze``: loaded from --load, or random from the flags."""
    import numpy as np

    from . import networks
    from .features import LinearFeatures
    from .network_io import load_network

    if args.load is not None:
        return load_network(args.load)
    missing = [
        flag
        for flag, value in (
            ("--kind", args.kind),
            ("--d", args.d),
            ("--m", args.m),
            ("--rank", args.rank),
        )
        if value is None
    ]
    if missing:
        raise ValueError(
            f"analyze needs --load FILE or all of --kind, --d, --m, --rank; "
            f"missing {', '.join(missing)}"
        )
    cls = {"cp": networks.CPNetwork, "tt": networks.TTNetwork, "ht": networks.HTNetwork}
    rng = np.random.default_rng(args.seed)
    return cls[args.kind].random(
        args.d, LinearFeatures.identity(args.m), rank=args.rank, xi=args.xi, random_state=rng
    )


def _partition(text: str):
    if text in ("odd", "even"):
        return text
    try:
        return tuple(int(k) for k in text.split(","))
    except ValueError:
        raise ValueError(
            f"--partition must be 'odd', 'even' or comma-separated modes like 0,2, got {text!r}"
        ) from None


def _cmd_analyze(args) -> int:
    import numpy as np

    from .expressivity import shallow_width_lower_bound, width_conversion_bounds
    from .network_io import save_network

    net = _analysed_network(args)
    if args.templates is not None:
        if args.templates < 1:
            raise ValueError(f"--templates must be a positive int, got {args.templates}")
        rng = np.random.default_rng([args.seed, 1])
        templates = rng.standard_normal((args.templates, net.n_inputs))
        on = f"grid tensor on {args.templates} Gaussian templates"
    elif net.xi.is_product:
        templates, on = None, "coefficient tensor W"
    elif net.n_inputs == net.n_features and args.load is None:
        templates = np.eye(net.n_inputs)
        on = f"grid tensor on {net.n_inputs} one-hot templates"
    else:
        raise ValueError(
            f"a xi={net.xi.name!r} network needs --templates M: the bound is on its grid tensor"
        )
    partitions = [_partition(p) for p in (args.partition or ["odd"])]
    found = shallow_width_lower_bound(net, templates=templates, partitions=partitions)
    print(f"network: {net!r}")
    print(f"analysed: {on}")
    _print_table(
        [
            {
                "xi": found.xi,
                "partition": ",".join(str(k) for k in found.row_modes),
                "rank": found.rank,
                "term_rank": found.term_rank,
                "bound": found.bound,
                "tol": found.tol,
                "gap": found.gap,
            }
        ]
    )
    if len(found.ranks) > 1:
        print(
            "ranks per partition: "
            + "; ".join(
                f"{','.join(str(k) for k in rows)}: {rank}" for rows, rank in found.ranks.items()
            )
        )
    print(f"an equivalent shallow ({found.xi}) network needs width >= {found.bound}")
    if net.xi.is_product:
        r = max(net.ranks) if net.kind != "ht" else max(net.ranks[:-1])
        table = width_conversion_bounds(r, net.d)
        print(
            f"\nwidth conversions for a {net.kind.upper()} network of width r = {r} "
            f"(docs/theory.md section 5.2):"
        )
        _print_table(
            [
                {
                    "needed": needed.upper(),
                    "width": ("" if cell.exact else ">= ") + str(cell.value),
                    "formula": cell.formula,
                    "exact": cell.exact,
                    "always_suffices": "" if cell.upper is None else cell.upper,
                }
                for needed, row in table.items()
                for given, cell in row.items()
                if given == net.kind
            ]
        )
    if args.save is not None:
        print(f"saved {save_network(net, args.save)}")
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
    from .operators import operator_names

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
    ana = sub.add_parser(
        "analyze", help="shallow-width lower bound and width conversions of a network"
    )
    ana.add_argument("--load", help="a network saved with tensorexpr.save_network (.npz)")
    ana.add_argument("--kind", choices=("cp", "tt", "ht"), help="random network: its kind")
    ana.add_argument("--d", type=int, help="number of positions")
    ana.add_argument("--m", type=int, help="number of features (identity feature map)")
    ana.add_argument("--rank", type=int, help="width / rank of the network")
    ana.add_argument(
        "--xi",
        default="product",
        choices=operator_names(),
        help="operator (default product)",
    )
    ana.add_argument(
        "--templates", type=int, metavar="M", help="analyse the grid tensor on M Gaussian templates"
    )
    ana.add_argument(
        "--partition",
        action="append",
        metavar="MODES",
        help="row modes: odd, even or e.g. 0,2 (repeatable; default odd)",
    )
    ana.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ana.add_argument("--save", metavar="FILE", help="also save the network to FILE (.npz)")
    ana.set_defaults(func=_cmd_analyze)
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
