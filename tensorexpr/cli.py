"""The ``tensorexpr`` command: list and reproduce the papers' results, analyse networks."""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import math
import re
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
    settings = list(_settings(exp))
    unknown = sorted(set(options) - set(settings))
    if unknown:
        has = f"its settings: {', '.join(settings)}" if settings else "it takes no settings"
        raise ValueError(f"--set {', '.join(unknown)}: not a setting of {exp.name!r}; {has}")
    parameters = inspect.signature(exp.run).parameters
    for key, value in options.items():
        _check_setting(key, value, parameters[key])
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


#: parameters of an experiment's run function that have flags of their own
_FIXED = ("quick", "seed", "progress", "n_jobs")


def _settings(exp) -> dict:
    """The ``--set`` keys of an experiment and their defaults."""
    return {
        name: param.default
        for name, param in inspect.signature(exp.run).parameters.items()
        if name not in _FIXED
    }


def _check_setting(key: str, value, param: inspect.Parameter) -> None:
    """A ``--set`` value of the kind the setting's default (or annotation) has."""
    default, note = param.default, str(param.annotation)
    if isinstance(default, tuple):
        if not isinstance(value, tuple):
            example = _default(default)
            raise ValueError(f"--set {key}: expected a JSON list like {example}, got {value!r}")
        return
    wants_int = isinstance(default, int) and not isinstance(default, bool)
    wants_int = wants_int or (default is None and note.startswith("int"))
    if wants_int and (isinstance(value, bool) or not isinstance(value, int)):
        if value is None and default is None:
            return
        raise ValueError(f"--set {key}: expected an int, got {value!r}")
    if isinstance(default, str) and not isinstance(value, str):
        raise ValueError(f"--set {key}: expected a string, got {value!r}")


def _settings_help() -> str:
    """The epilog of ``tensorexpr reproduce --help``: every experiment's ``--set`` keys."""
    from .experiments import get_experiment, list_experiments

    lines = [
        "settings of each experiment, with their defaults (--set KEY=VALUE, VALUE in JSON;",
        "null: the value of the --quick or of the full run):",
    ]
    for name in sorted(list_experiments()):
        try:
            settings = _settings(get_experiment(name))
        except Exception as err:  # an optional plugin that cannot load
            lines.append(f"  {name}: (unavailable: {err})")
            continue
        lines.append(f"  {name}:" + ("" if settings else " none"))
        lines += [f"    {key}={_default(value)}" for key, value in settings.items()]
    lines += ["", "examples:", *(f"  {example}" for example in REPRODUCE_EXAMPLES)]
    return "\n".join(lines)


def _default(value) -> str:
    if isinstance(value, tuple):
        value = list(value)
    return value if isinstance(value, str) else json.dumps(value)


#: shown by ``tensorexpr reproduce --help``; tests/test_cli.py runs each of them
REPRODUCE_EXAMPLES = (
    "tensorexpr reproduce theorem1 --quick --out results",
    "tensorexpr reproduce fig3 --quick --set d=4 --set 'distributions=[\"gaussian\"]'",
)


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
    from .validation import check_size

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
    if args.m >= 1:  # the identity feature map is an m x m matrix
        check_size(8 * args.m * args.m, f"--m={args.m}", "the identity feature map")
    cls = {"cp": networks.CPNetwork, "tt": networks.TTNetwork, "ht": networks.HTNetwork}
    rng = np.random.default_rng(args.seed)
    return cls[args.kind].random(
        args.d, LinearFeatures.identity(args.m), rank=args.rank, xi=args.xi, random_state=rng
    )


def _partition(text: str, d: int):
    """``--partition``: 'odd', 'even' or the row modes, checked against the network's d."""
    if text in ("odd", "even"):
        return text
    try:
        modes = tuple(int(k) for k in text.split(","))
    except ValueError:
        raise ValueError(
            f"--partition must be 'odd', 'even' or comma-separated modes like 0,2, got {text!r}"
        ) from None
    outside = [k for k in modes if not 0 <= k < d]
    if outside:
        raise ValueError(
            f"--partition {text}: modes must lie in 0..{d - 1} (the network has d = {d}), "
            f"got {', '.join(map(str, outside))}"
        )
    if len(set(modes)) != len(modes):
        raise ValueError(f"--partition {text}: a mode is repeated")
    if len(modes) >= d:
        raise ValueError(f"--partition {text}: must leave some of the {d} modes for the columns")
    return modes


def _cmd_analyze(args) -> int:
    import numpy as np

    from .analysis.expressivity import shallow_width_lower_bound, width_conversion_bounds
    from .network_io import save_network
    from .validation import check_size

    net = _analysed_network(args)
    if args.templates is not None:
        if args.templates < 1:
            raise ValueError(f"--templates must be a positive int, got {args.templates}")
        check_size(
            8 * args.templates * net.n_inputs, f"--templates={args.templates}", "the templates"
        )
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
    partitions = [_partition(p, net.d) for p in (args.partition or ["odd"])]
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
                "atol": found.atol,
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
            note = _margin_note(cert.sigma, cert.margin)
            if note:
                print(note)
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


def _margin_note(sigma: float, margin: float) -> str | None:
    """A sentence when the smallest counted singular value barely clears the margin: the
    count is proven all the same, but a slightly larger error bound would lower it."""
    if not margin > 0 or sigma >= 2 * margin:
        return None
    return (
        f"note: the smallest counted singular value ({sigma:.3g}) is only "
        f"{sigma / margin:.2f} x the margin ({margin:.3g}): the bound holds, but it sits at "
        "the edge of what the floating-point error bound lets one certify"
    )


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
    if not math.isfinite(value) or value > 2**62:
        raise argparse.ArgumentTypeError(f"must be a size below 4 EiB, got {text!r}")
    return int(value)


def _int_at_least(low: int):
    """An argparse type: an int >= low (argparse names the flag in its error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an int, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an int >= {low}, got {value}")
        return value

    parse.__name__ = f"int >= {low}"
    return parse


def _n_jobs(text: str) -> int:
    value = _int_at_least(-(2**31))(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be a positive int or -1 (all cores), got 0")
    return value


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line ``tensorexpr: error: ...`` and exit status 2, like every
    other failure of the command."""

    def error(self, message):
        self.exit(2, f"tensorexpr: error: {message} (see `{self.prog} --help`)\n")


#: the sub-commands and their one-line help (``tensorexpr --help``)
COMMANDS = {
    "list": "name the reproducible results",
    "reproduce": "run one result: table (CSV/JSON) and figure (PNG)",
    "analyze": "shallow-width lower bound and width conversions of a network",
}

#: internal argument names in library messages -> the ``analyze`` flags a user typed
_ANALYZE_FLAGS = {
    "row_modes": "--partition",
    "memory_limit": "--memory-limit",
    "max_size": "--max-size",
    "n_inputs": "--m",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; ``command`` (a name of :data:`COMMANDS`, or ``""`` for none)
    builds the arguments of that sub-command only, so that ``--help``, ``--version`` and one
    sub-command import nothing the others need (None: all of them)."""
    from . import __version__

    parser = _Parser(
        prog="tensorexpr",
        description="Expressive power of tensor networks: reproduce and analyse.",
        epilog="examples:\n  tensorexpr list\n  "
        + "\n  ".join((REPRODUCE_EXAMPLES[0], ANALYZE_EXAMPLES[0]))
        + "\n\n`tensorexpr COMMAND --help` tells each command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tensorexpr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    parsers = {name: sub.add_parser(name, help=text) for name, text in COMMANDS.items()}
    parsers["list"].set_defaults(func=_cmd_list)
    parsers["reproduce"].set_defaults(func=_cmd_reproduce)
    parsers["analyze"].set_defaults(func=_cmd_analyze)
    if command in (None, "reproduce"):
        _reproduce_arguments(parsers["reproduce"])
    if command in (None, "analyze"):
        _analyze_arguments(parsers["analyze"])
    return parser


def _reproduce_arguments(rep: argparse.ArgumentParser) -> None:
    rep.description = COMMANDS["reproduce"]
    rep.epilog = _settings_help()
    rep.formatter_class = argparse.RawDescriptionHelpFormatter
    rep.add_argument("name", help="experiment name (see `tensorexpr list`)")
    rep.add_argument("--quick", action="store_true", help="small settings, for CI")
    rep.add_argument(
        "--seed", type=_int_at_least(0), default=0, help="base random seed (default 0)"
    )
    rep.add_argument("--out", default="results", help="output folder (default ./results)")
    rep.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a setting of the experiment (repeatable; VALUE is JSON or a string); "
        "the settings of each experiment are listed below",
    )
    rep.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=1,
        help="joblib workers over the experiment's cases (-1: all cores; default 1)",
    )
    rep.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run the cases on a Dask cluster through joblib: a scheduler address, or 'local' "
        "for a new distributed.LocalCluster (needs the 'dask' extra)",
    )


#: shown by ``tensorexpr analyze --help``; tests/test_cli.py runs each of them
ANALYZE_EXAMPLES = (
    "tensorexpr analyze --kind tt --d 8 --m 3 --rank 3",
    "tensorexpr analyze --kind tt --d 8 --m 3 --rank 3 --xi relu_max --partition 0,1,2,3",
    "tensorexpr analyze --kind tt --d 30 --m 2 --rank 2 --max-size 128 --certificate cert.json",
)


def _analyze_arguments(ana: argparse.ArgumentParser) -> None:
    from .operators import operator_names

    ana.description = COMMANDS["analyze"]
    ana.epilog = "examples:\n" + "\n".join(f"  {example}" for example in ANALYZE_EXAMPLES)
    ana.formatter_class = argparse.RawDescriptionHelpFormatter
    positive = _int_at_least(1)
    ana.add_argument("--load", help="a network saved with tensorexpr.save_network (.npz)")
    ana.add_argument("--kind", choices=("cp", "tt", "ht"), help="random network: its kind")
    ana.add_argument("--d", type=positive, help="number of positions")
    ana.add_argument("--m", type=positive, help="number of features (identity feature map)")
    ana.add_argument("--rank", type=positive, help="width / rank of the network")
    ana.add_argument(
        "--xi",
        default="product",
        choices=operator_names(),
        help="operator (default product)",
    )
    ana.add_argument(
        "--templates",
        type=positive,
        metavar="M",
        help="analyse the grid tensor on M Gaussian templates",
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
        type=positive,
        help="submatrix: most rows and columns (default 2048; exact: the sub-grid if <= 4096)",
    )
    ana.add_argument("--certificate", metavar="FILE", help="save the certificate (.json/.npz)")
    ana.add_argument("--seed", type=_int_at_least(0), default=0, help="random seed (default 0)")
    ana.add_argument("--save", metavar="FILE", help="also save the network to FILE (.npz)")
    ana.add_argument(
        "--memory-limit",
        type=_memory_size,
        default="2GiB",
        metavar="SIZE",
        help="memory allowed for the dense tensor analysed and its SVD, and for a "
        "submatrix (default 2GiB)",
    )


def _command_of(argv: list[str]) -> str:
    """The sub-command named in ``argv`` (its first word that is not an option), or ""."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else ""
    return ""


def _in_flags(message: str, command: str) -> str:
    """A library message in the words of the command line: the flags, and where to look."""
    if command == "analyze":
        for name, flag in _ANALYZE_FLAGS.items():
            message = re.sub(
                rf"\b{name}\b(=?)", lambda m, f=flag: f + (" " if m[1] else ""), message
            )
        message = re.sub(r"^d must\b", "--d must", message)
        message = re.sub(r"^rank must\b", "--rank must", message)
        message = re.sub(r"^path must\b", "--load must", message)
        message = re.sub(r"\s*\(tensorexpr analyze: --[\w-]+\)", "", message)
    if command and "--help" not in message:
        message += f" (see `tensorexpr {command} --help`)"
    return message


def main(argv: list[str] | None = None) -> int:
    """Run the command; every failure is one line ``tensorexpr: error: ...`` on stderr and
    exit status 2 (usage errors included)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_command_of(argv)).parse_args(argv)
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
        if isinstance(err, KeyError) and message.startswith(("'", '"')):
            message = message[1:-1]  # str(KeyError) quotes its message
        if not isinstance(err, (ValueError, TypeError, OSError, KeyError)) or not message:
            message = f"{type(err).__name__}: {message}".rstrip(": ")
        elif not isinstance(err, OSError):  # a file problem names its file, not a flag
            message = _in_flags(message, args.command)
        print(f"tensorexpr: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
