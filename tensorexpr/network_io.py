"""Saving networks to ``.npz`` files and loading them back.

The format is one numpy ``.npz`` archive: ``meta`` (a JSON string: format version, kind, xi,
tree structure, feature map class, names of the arrays) and the arrays themselves (the
network's parameters and the feature map's). No pickle is involved, so loading a file is safe.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["save_network", "load_network"]

_FORMAT = 1


def _feature_classes() -> dict:
    from . import features

    return {
        name: getattr(features, name)
        for name in ("ReLUFeatures", "LinearFeatures", "TrigFeatures", "PolynomialFeatures")
    }


def save_network(network, path: str | Path) -> Path:
    """Write a CP / TT / HT network (any xi, any built-in feature map) to an ``.npz`` file.

    Parameters
    ----------
    network : CPNetwork, TTNetwork or HTNetwork
    path : str or Path
        Target file; ``.npz`` is appended when missing.

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
    from .networks import TensorNetwork

    if not isinstance(network, TensorNetwork):
        raise TypeError(
            f"network must be a CPNetwork, TTNetwork or HTNetwork, got {type(network).__name__}"
        )
    fmap = network.feature_map
    fclass = type(fmap).__name__
    if fclass not in _feature_classes():
        raise TypeError(f"the feature map must be a built-in one to be saved, got {fclass}")
    arrays: dict[str, np.ndarray] = {}
    params = {}
    for key, value in fmap.get_params().items():
        if isinstance(value, np.ndarray):
            arrays[f"feature_map.{key}"] = value
        else:
            params[key] = value
    meta = {
        "format": _FORMAT,
        "kind": network.kind,
        "xi": network.xi.name,
        "feature_map": fclass,
        "feature_params": params,
    }
    if network.kind == "cp":
        names = ["weights"] + [f"factors.{k}" for k in range(network.d)]
        arrays["weights"] = network.weights
        arrays.update({f"factors.{k}": f for k, f in enumerate(network.factors)})
    elif network.kind == "tt":
        names = [f"cores.{t}" for t in range(network.d)]
        arrays.update({f"cores.{t}": c for t, c in enumerate(network.cores)})
        if network.matrices is not None:
            arrays.update({f"matrices.{t}": c for t, c in enumerate(network.matrices)})
    else:
        names = [f"factors.{k}" for k in range(len(network.factors))]
        arrays.update({f"factors.{k}": f for k, f in enumerate(network.factors)})
        meta["tree"] = network.tree.structure
    meta["n_params"] = len(names)
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
    return path


def load_network(path: str | Path):
    """Read a network written by :func:`save_network`.

    Parameters
    ----------
    path : str or Path
        An ``.npz`` file.

    Returns
    -------
    CPNetwork, TTNetwork or HTNetwork

    Examples
    --------
    See :func:`save_network`.
    """
    from .networks import CPNetwork, HTNetwork, TTNetwork
    from .trees import DimensionTree

    path = Path(path)
    if not path.is_file():
        raise ValueError(
            f"path must be an existing .npz file written by save_network, got {str(path)!r}"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("meta")))
    except Exception as err:
        raise ValueError(
            f"{str(path)!r} is not a network file written by save_network ({err})"
        ) from None
    if meta.get("format") != _FORMAT:
        raise ValueError(f"unsupported network file format {meta.get('format')!r} in {path}")
    fparams = dict(meta["feature_params"])
    for key in [k for k in arrays if k.startswith("feature_map.")]:
        fparams[key.split(".", 1)[1]] = arrays.pop(key)
    fmap = _feature_classes()[meta["feature_map"]](**fparams)

    def listed(prefix):
        keys = sorted(
            (k for k in arrays if k.startswith(prefix + ".")), key=lambda k: int(k.split(".")[1])
        )
        return [arrays[k] for k in keys]

    kind, xi = meta["kind"], meta["xi"]
    if kind == "cp":
        return CPNetwork(listed("factors"), fmap, weights=arrays["weights"], xi=xi)
    if kind == "tt":
        matrices = listed("matrices") or None
        return TTNetwork(listed("cores"), fmap, xi=xi, matrices=matrices)
    if kind == "ht":
        return HTNetwork(listed("factors"), fmap, tree=DimensionTree(_tuples(meta["tree"])), xi=xi)
    raise ValueError(f"unknown network kind {kind!r} in {path}")


def _tuples(structure):
    return structure if isinstance(structure, int) else tuple(_tuples(s) for s in structure)
