"""Saving networks to ``.npz`` files and loading them back.

The format is one numpy ``.npz`` archive: ``meta`` (a JSON string) and the arrays (the
network's parameters and the feature map's). ``meta`` holds the format version, the kind,
xi, d, n_outputs, the tree structure (HT), the feature map class and its scalar parameters,
the name and shape of every array, and the parameter count. No pickle is involved, so loading
a file is safe.

A file is written atomically (:func:`tensorexpr.files.atomic_write`): a save that fails
part-way leaves the previous file as it was. Loading checks the file completely before
building the network (every field of ``meta``, every array and its shape, the parameter
count) and names the file and the field that is wrong (docs/errors.md).
"""

from __future__ import annotations

import json
import numbers
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .features import prefixed, split_prefixed
from .files import atomic_write
from .networks import KINDS, LAYOUTS, TensorNetwork, layout_of

__all__ = ["save_network", "load_network", "NETWORK_FORMAT"]

#: Version of the file layout written by :func:`save_network`; :func:`load_network` reads
#: this one and the first one (format 1: no array shapes, no d, ``n_params`` = array count).
NETWORK_FORMAT = 2
_READABLE = (1, 2)


def _feature_classes() -> dict:
    from . import features

    return {
        name: getattr(features, name)
        for name in ("ReLUFeatures", "LinearFeatures", "TrigFeatures", "PolynomialFeatures")
    }


def save_network(network, path: str | Path) -> Path:
    """Write a CP / TT / HT network (any xi, any built-in feature map) to an ``.npz`` file.

    The file is replaced atomically: if writing fails (disk full, an interrupt), the file
    that was there before is left unchanged.

    Parameters
    ----------
    network : CPNetwork, TTNetwork or HTNetwork
    path : str or Path
        Target file; ``.npz`` is appended when missing. Its folder must exist.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> import tensorexpr as te
    >>> net = te.TTNetwork.random(4, te.TrigFeatures(), rank=2, xi="relu_max", random_state=0)
    >>> path = te.save_network(net, os.path.join(tempfile.mkdtemp(), "net"))
    >>> back = te.load_network(path)
    >>> X = np.random.default_rng(0).standard_normal((3, 4, 1))
    >>> bool(np.allclose(back(X), net(X))), back.xi.name
    (True, 'relu_max')
    """
    if not isinstance(network, TensorNetwork):
        raise TypeError(
            f"network must be a CPNetwork, TTNetwork or HTNetwork, got {type(network).__name__}"
        )
    if isinstance(path, bool) or not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or a Path, got {type(path).__name__}")
    fmap = network.feature_map
    fclass = type(fmap).__name__
    if fclass not in _feature_classes():
        raise TypeError(f"the feature map must be a built-in one to be saved, got {fclass}")
    fparams = fmap.get_params()
    arrays = prefixed({k: v for k, v in fparams.items() if isinstance(v, np.ndarray)})
    params = {k: v for k, v in fparams.items() if not isinstance(v, np.ndarray)}
    layout = layout_of(network.kind)
    meta = {
        "format": NETWORK_FORMAT,
        "kind": network.kind,
        "xi": network.xi.name,
        "d": network.d,
        "n_outputs": network.n_outputs,
        "feature_map": fclass,
        "feature_params": params,
    }
    arrays.update(layout.file_arrays(network))
    if "tree" in layout.options:
        meta["tree"] = network.tree.structure
    meta["arrays"] = {name: list(a.shape) for name, a in arrays.items()}
    meta["n_params"] = network.n_params
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    with atomic_write(path) as fh:
        np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)
    return path


class _BadFile(ValueError):
    """A network file that fails a check; the message names the file and the field."""


def load_network(path: str | Path):
    """Read a network written by :func:`save_network`, after checking the whole file.

    Parameters
    ----------
    path : str or Path
        An ``.npz`` file.

    Returns
    -------
    CPNetwork, TTNetwork or HTNetwork

    Raises
    ------
    ValueError
        The file is missing, truncated or corrupt, of another format version, or a field
        of its metadata or one of its arrays is missing, unknown or of the wrong shape;
        the message names the file and the field.

    Examples
    --------
    See :func:`save_network`.
    """
    if isinstance(path, bool) or not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or a Path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise ValueError(
            f"path must be an existing .npz file written by save_network, got {str(path)!r}"
        )
    where = f"network file {str(path)!r}"
    arrays = _read_arrays(path, where)
    meta = _read_meta(arrays.pop("meta", None), where)
    return _build(meta, arrays, where)


def _read_arrays(path: Path, where: str) -> dict[str, np.ndarray]:
    try:
        data = np.load(path, allow_pickle=False)
        if not hasattr(data, "files"):
            raise _BadFile(f"{where} is a single .npy array, not an .npz archive")
        with data:
            return {k: data[k] for k in data.files}
    except _BadFile:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, KeyError) as err:
        raise _BadFile(
            f"{where} is not a network file written by save_network (truncated or corrupt: "
            f"{type(err).__name__}: {err})"
        ) from None


def _read_meta(raw, where: str) -> dict:
    if raw is None:
        raise _BadFile(f"{where} is not a network file written by save_network: no 'meta' entry")
    if raw.shape != () or raw.dtype.kind != "U":
        raise _BadFile(
            f"{where}: 'meta' must be a JSON string, got an array {raw.dtype}{raw.shape}"
        )
    try:
        meta = json.loads(str(raw))
    except json.JSONDecodeError as err:
        raise _BadFile(f"{where}: 'meta' is not valid JSON ({err})") from None
    if not isinstance(meta, dict):
        raise _BadFile(f"{where}: 'meta' must be a JSON object, got {type(meta).__name__}")
    version = meta.get("format")
    if version not in _READABLE or isinstance(version, bool):
        raise _BadFile(
            f"{where}: field 'format' is {version!r}; this version of tensorexpr reads formats "
            f"{list(_READABLE)} (a file from a newer tensorexpr needs that version)"
        )
    return meta


def _field(meta: dict, name: str, types, where: str, what: str):
    if name not in meta:
        raise _BadFile(f"{where}: field {name!r} is missing from 'meta' (expected {what})")
    value = meta[name]
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        raise _BadFile(f"{where}: field {name!r} must be {what}, got {value!r}")
    return value


def _count(meta: dict, name: str, where: str) -> int:
    value = _field(meta, name, (numbers.Integral,), where, "an int >= 1")
    if value < 1:
        raise _BadFile(f"{where}: field {name!r} must be an int >= 1, got {value!r}")
    return int(value)


def _build(meta: dict, arrays: dict, where: str):
    from .operators import get_operator, operator_names
    from .trees import DimensionTree

    version = meta["format"]
    kind = _field(meta, "kind", (str,), where, f"one of {list(KINDS)}")
    if kind not in KINDS:
        raise _BadFile(f"{where}: field 'kind' must be one of {list(KINDS)}, got {kind!r}")
    layout = LAYOUTS[kind]
    xi = _field(meta, "xi", (str,), where, "an operator name")
    if xi not in operator_names():
        raise _BadFile(
            f"{where}: field 'xi' names the operator {xi!r}, which is not registered here "
            f"(registered: {operator_names()}); call tensorexpr.register_operator({xi!r}, ...) "
            "before loading"
        )
    xi = get_operator(xi)
    tree = None
    if "tree" in layout.options:
        structure = _field(meta, "tree", (int, list), where, "a nested list of mode indices")
        try:
            tree = DimensionTree(_tuples(structure))
        except (TypeError, ValueError) as err:
            raise _BadFile(f"{where}: field 'tree' is not a dimension tree ({err})") from None
    if version >= 2:
        d = _count(meta, "d", where)
        if tree is not None and tree.d != d:
            raise _BadFile(f"{where}: field 'tree' has {tree.d} modes but field 'd' is {d}")
        _count(meta, "n_outputs", where)
        shapes = _field(meta, "arrays", (dict,), where, "an object of array names and shapes")
        missing = sorted(set(shapes) - set(arrays))
        if missing:
            raise _BadFile(f"{where}: array {missing[0]!r} listed in 'meta' is missing")
        extra = sorted(set(arrays) - set(shapes))
        if extra:
            raise _BadFile(f"{where}: array {extra[0]!r} is not listed in 'meta'")
        for name, shape in shapes.items():
            if list(arrays[name].shape) != shape:
                raise _BadFile(
                    f"{where}: array {name!r} has shape {arrays[name].shape}, 'meta' lists "
                    f"{tuple(shape) if isinstance(shape, list) else shape!r}"
                )
    else:
        d = tree.d if tree is not None else None
    for name, value in arrays.items():
        if value.dtype.kind not in "fiu" or not np.all(np.isfinite(value)):
            raise _BadFile(f"{where}: array {name!r} must hold finite real numbers")
    params, learned = split_prefixed(arrays)
    fmap = _feature_map(meta, learned, where)
    try:
        net = layout.from_file(_Reader(params, where), d, tree, fmap, xi)
    except _BadFile:
        raise
    except (TypeError, ValueError) as err:
        raise _BadFile(
            f"{where}: its arrays do not form a {kind.upper()} network ({err})"
        ) from None
    _check_counts(meta, net, params, where)
    return net


def _feature_map(meta: dict, learned: dict, where: str):
    classes = _feature_classes()
    name = _field(meta, "feature_map", (str,), where, f"one of {sorted(classes)}")
    if name not in classes:
        raise _BadFile(
            f"{where}: field 'feature_map' must be one of {sorted(classes)}, got {name!r}"
        )
    fparams = dict(_field(meta, "feature_params", (dict,), where, "an object of parameters"))
    fparams.update(learned)
    try:
        return classes[name](**fparams)
    except (TypeError, ValueError) as err:
        raise _BadFile(f"{where}: field 'feature_params' does not build a {name} ({err})") from None


class _Reader:
    """The network arrays of a file, handed to a layout's ``from_file``; each read is checked."""

    def __init__(self, params: dict, where: str):
        self.params, self.where = params, where

    def listed(self, prefix: str) -> list[str]:
        """The names ``prefix.*`` in the file."""
        return [k for k in self.params if k.startswith(prefix + ".")]

    def array(self, name: str) -> np.ndarray:
        if name not in self.params:
            raise _BadFile(f"{self.where}: array {name!r} is missing")
        return self.params[name]

    def series(self, prefix: str, n: int) -> list[np.ndarray]:
        """``prefix.0 .. prefix.{n-1}``, each present, and no other ``prefix.*`` array."""
        expected = [f"{prefix}.{k}" for k in range(n)]
        for name in expected:
            if name not in self.params:
                raise _BadFile(
                    f"{self.where}: array {name!r} is missing (field 'd' / 'tree' asks for {n} "
                    f"arrays {prefix}.*, the file holds {len(self.listed(prefix))})"
                )
        extra = sorted(set(self.listed(prefix)) - set(expected))
        if extra:
            raise _BadFile(f"{self.where}: array {extra[0]!r} does not belong to a network of {n}")
        return [self.params[name] for name in expected]


def _check_counts(meta: dict, net, params: dict, where: str) -> None:
    layout = LAYOUTS[net.kind]
    stored = _count(meta, "n_params", where)
    if meta["format"] == 1:  # format 1 counted the parameter arrays
        found, what = len(layout.file_arrays(net)), "parameter arrays"
    else:
        found, what = net.n_params, "parameters"
        for name, expected in (("d", net.d), ("n_outputs", net.n_outputs)):
            if meta[name] != expected:
                raise _BadFile(
                    f"{where}: field {name!r} is {meta[name]}, the arrays give {expected}"
                )
    if stored != found:
        raise _BadFile(
            f"{where}: field 'n_params' is {stored}, the arrays hold {found} {what} "
            "(an array is missing or was changed)"
        )
    unused = sorted(set(params) - set(layout.file_arrays(net)))
    if unused:
        raise _BadFile(f"{where}: array {unused[0]!r} is not a parameter of this network")


def _tuples(structure):
    if isinstance(structure, bool):
        raise TypeError(f"a tree node must be a mode index or a pair, got {structure!r}")
    return structure if isinstance(structure, int) else tuple(_tuples(s) for s in structure)
