"""The ``tensorexpr`` command: list and reproduce the papers' results, analyse networks."""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
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


def _output_folder(text: str) -> Path:
    """``--out``: created (with parents) and checked writable before any work is done."""
    out = Path(text)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".tensorexpr-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise OSError(f"--out {text}: cannot write there ({err.strerror or err})") from None
    return out


def _cmd_reproduce(args) -> int:
    from .experiments import get_experiment

    exp = get_experiment(args.name)
    out = _output_folder(args.out)
    options = dict(_setting(text) for text in args.set or [])
    fixed = ("quick", "seed", "progress", "n_jobs")  # flags of their own
    settings = [p for p in inspect.signature(exp.run).parameters if p not in fixed]
    unknown = sorted(set(options) - set(settings))
    if unknown:
        raise ValueError(
            f"--set {', '.join(unknown)}: not a setting of {exp.name!r}; its settings: "
            f"{', '.join(settings) or 'none'}"
        )
    if args.n_jobs != 1 or args.dask is not None:
        if "n_jobs" not in inspect.signature(exp.run).parameters:  # a sequential experiment
            raise ValueError(f"experiment {exp.name!r} runs in one process: no --n-jobs / --dask")
        options["n_jobs"] = -1 if args.dask is not None and args.n_jobs == 1 else args.n_jobs
    start = time.perf_counter()
    with _joblib_backend(args.dask):
        result = exp.run(quick=args.quick, seed=args.seed, progress=_progress, **options)
    result.summary.setdefault("quick", args.quick)
    result.summary["seconds"] = round(time.perf_counter() - start, 2)
    paths = result.save(out)
    png = out / f"{exp.name}.png"
    exp.plot(result, png)
    paths.append(png)
    _print_table(result.rows)
    for key, value in result.summary.items():
        if isinstance(value, list) and len(value) <= 10:
            print(f"{key}: {', '.join(str(v) for v in value) or 'none'}")
        elif not isinstance(value, (dict, list)):
            print(f"{key}: {value}")
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _setting(text: str):
    """``KEY=VALUE`` of --set: VALUE as JSON (numbers, lists, true/false), else a string."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise ValueError(f"--set must look like KEY=VALUE (e.g. d=10), got {text!r}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return key, tuple(parsed) if isinstance(parsed, list) else parsed


@contextlib.contextmanager
def _joblib_backend(dask):
    """joblib's Dask backend on a ``distributed.Client`` (``local``: a new LocalCluster)."""
    if dask is None:
        yield
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError(
            "--dask needs the optional dependency 'distributed' (pip install 'tensorexpr[dask]')"
        ) from None
    from joblib import parallel_config

    with contextlib.ExitStack() as stack:
        if dask == "local":
            cluster = stack.enter_context(LocalCluster(processes=True, dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(Client(dask))
        print(f"dask: {client}", file=sys.stderr)
        stack.enter_context(parallel_config(backend="dask"))
        yield


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
    options = {} if args.method == "dense" else {"random_state": args.seed}
    if args.method != "dense" and args.max_size is not None:
        options["max_size"] = args.max_size
    found = shallow_width_lower_bound(
        net,
        templates=templates,
        partitions=partitions,
        method=args.method,
        memory_limit=args.memory_limit,
        **options,
    )
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
                "method": found.method,
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
    if found.certificate is not None:
        cert = found.certificate
        if cert.exact:
            print(
                f"certified by a {cert.shape[0]} x {cert.shape[1]} submatrix ({cert.selection}) "
                f"computed exactly: rank {cert.rank} over GF({cert.prime}), no margin"
            )
        else:
            print(
                f"certified by a {cert.shape[0]} x {cert.shape[1]} submatrix ({cert.selection}): "
                f"{cert.rank} singular values above the margin {cert.margin:.3g} (entries "
                f"{cert.entry_error:.3g} + SVD {cert.svd_error:.3g}); smallest counted "
                f"{cert.sigma:.4g}"
            )
        diag = cert.diagnostic
        if diag is not None:
            print(
                f"feature matrix on the templates: rank {diag.rank} of m = {diag.n_features}, "
                f"condition number {diag.condition:.3g}"
                + (f"; warning: {diag.message}" if diag.message else "")
            )
        if args.certificate is not None:
            print(f"certificate saved to {cert.save(args.certificate)}")
    print(f"an equivalent shallow ({found.xi}) network needs width >= {found.bound}")
    if net.xi.is_product:
        r = max(net.ranks) if net.kind != "ht" else max(net.ranks[:-1])
        # the CP lower bounds of the theorem hold with min(m, r) in place of r
        table = width_conversion_bounds(r, net.d, m=net.n_features)
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


_UNITS = {"": 1, "b": 1, "k": 2**10, "kib": 2**10, "m": 2**20, "mib": 2**20, "g": 2**30}
_UNITS.update({"gib": 2**30, "t": 2**40, "tib": 2**40})


def _memory_size(text: str) -> int:
    """``--memory-limit``: bytes, or a number with a unit (512MiB, 2GiB, 1.5G)."""
    body = text.strip().lower()
    number = body.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = body[len(number) :]
    try:
        value = float(number) * _UNITS[unit]
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(
            f"must be a size such as 512MiB, 2GiB or a number of bytes, got {text!r}"
        ) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive size, got {text!r}")
    return int(value)


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line ``tensorexpr: error: ...`` and exit status 2, like every
    other failure of the command."""

    def error(self, message):
        self.exit(2, f"tensorexpr: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .operators import operator_names

    parser = _Parser(
        prog="tensorexpr",
        description="Expressive power of tensor networks: reproduce and analyse.",
    )
    parser.add_argument("--version", action="version", version=f"tensorexpr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="name the reproducible results").set_defaults(func=_cmd_list)
    rep = sub.add_parser("reproduce", help="run one result: table (CSV/JSON) and figure (PNG)")
    rep.add_argument("name", help="experiment name (see `tensorexpr list`)")
    rep.add_argument("--quick", action="store_true", help="small settings, for CI")
    rep.add_argument("--seed", type=int, default=0, help="base random seed (default 0)")
    rep.add_argument("--out", default="results", help="output folder (default ./results)")
    rep.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a setting of the experiment's run function, e.g. --set d=10 "
        "--set 'distributions=[\"gaussian\"]' (repeatable; VALUE is JSON or a string)",
    )
    rep.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        help="joblib workers over the experiment's cases (-1: all cores; default 1)",
    )
    rep.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run the cases on a Dask cluster through joblib: a scheduler address, or 'local' "
        "for a new distributed.LocalCluster (needs the 'dask' extra)",
    )
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
    ana.add_argument(
        "--method",
        choices=("auto", "dense", "submatrix", "exact"),
        default="auto",
        help="dense matricization, a certified float submatrix, or an exact one (rank over "
        "GF(p), no margin); auto: the route of least estimated cost",
    )
    ana.add_argument(
        "--max-size",
        type=int,
        help="submatrix: most rows and columns (default 2048; exact: the sub-grid if <= 4096)",
    )
    ana.add_argument("--certificate", metavar="FILE", help="save the certificate (.json/.npz)")
    ana.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ana.add_argument("--save", metavar="FILE", help="also save the network to FILE (.npz)")
    ana.add_argument(
        "--memory-limit",
        type=_memory_size,
        default="2GiB",
        metavar="SIZE",
        help="memory allowed for the dense tensor analysed and its SVD, and for a "
        "submatrix (default 2GiB)",
    )
    ana.set_defaults(func=_cmd_analyze)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; every failure is one line ``tensorexpr: error: ...`` on stderr and
    exit status 2 (usage errors included)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("tensorexpr: error: interrupted", file=sys.stderr)
        return 2
    except MemoryError:
        print(
            "tensorexpr: error: out of memory; use a smaller problem "
            "(analyze: a lower --memory-limit)",
            file=sys.stderr,
        )
        return 2
    except Exception as err:  # one line, never a traceback
        message = str(err).strip().splitlines()[0] if str(err).strip() else ""
        if not isinstance(err, (ValueError, TypeError, OSError, KeyError)) or not message:
            message = f"{type(err).__name__}: {message}".rstrip(": ")
        print(f"tensorexpr: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
