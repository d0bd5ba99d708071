"""The layers of docs/index (decomposition at the bottom, the engine and experiments above)
point down only, every module has a layer, the imports form no cycle, no module imports a
private name of another module, and below the engine only the modules named in
``TENSORFLOW_BELOW_ENGINE`` import TensorFlow: read from the source with ``ast``, lazy imports
inside functions included. The one exception to "down only" is the allow-list
``DEPRECATION_SHIMS``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tensorexpr", "estimators")

#: Rank of every module of tensorexpr and estimators: a module may import modules of a lower or
#: equal rank only, and the imports (lazy ones inside functions included) form no cycle. Every
#: module is listed: a new module without a rank here fails test_every_module_has_a_layer.
LAYERS = {
    # building blocks
    "tensorexpr._backend": 0,
    "tensorexpr.validation": 0,
    "tensorexpr.files": 0,
    "tensorexpr._tensorflow": 0,
    "tensorexpr._deprecation": 0,
    "tensorexpr.trees": 1,
    "tensorexpr.operators": 1,
    "tensorexpr.features": 1,
    "tensorexpr.ht_tensor": 2,
    "tensorexpr.grid": 2,
    # formats and decompositions
    "tensorexpr.decomposition": 3,
    "tensorexpr.decomposition._common": 3,
    "tensorexpr.decomposition._cp": 3,
    "tensorexpr.decomposition._tt": 3,
    "tensorexpr.decomposition._ht": 3,
    "tensorexpr.decomposition._completion": 3,
    "tensorexpr.decomposition._tt_completion": 3,
    "tensorexpr.decomposition._ht_completion": 3,
    "tensorexpr.cross": 3,
    "tensorexpr.cross._cross": 3,
    "tensorexpr.cross._maxvol": 3,
    "tensorexpr.decomposition._dask": 3,
    "tensorexpr.networks": 3,
    "tensorexpr.networks._base": 3,
    "tensorexpr.networks.cp": 3,
    "tensorexpr.networks.tt": 3,
    "tensorexpr.networks.ht": 3,
    # analysis of networks, tensors and score functions
    "tensorexpr.analysis": 4,
    "tensorexpr.analysis._modular": 4,
    "tensorexpr.analysis._exact": 4,
    "tensorexpr.analysis._inputs": 4,
    "tensorexpr.analysis._entries": 4,
    "tensorexpr.analysis._selection": 4,
    "tensorexpr.analysis._routes": 4,
    "tensorexpr.analysis.certificates": 4,
    "tensorexpr.analysis.expressivity": 4,
    "tensorexpr.analysis.construction": 4,
    "tensorexpr.network_io": 4,
    # TensorFlow engine
    "tensorexpr.engine": 5,
    "tensorexpr.engine._cache": 5,
    "tensorexpr.engine._spec": 5,
    "tensorexpr.engine._evaluate": 5,
    "tensorexpr.engine._train": 5,
    "tensorexpr.engine._fit_generalized": 5,
    "tensorexpr.engine._forms": 5,
    # reproductions, command line, package
    "tensorexpr.experiments": 6,
    "tensorexpr.experiments._base": 6,
    "tensorexpr.experiments.fig3": 6,
    "tensorexpr.experiments.table2": 6,
    "tensorexpr.experiments.theorem1": 6,
    "tensorexpr.experiments.theorem5_2": 6,
    "tensorexpr.experiments.theorem5_3": 6,
    "tensorexpr.experiments.universality": 6,
    "tensorexpr.cli": 7,
    "tensorexpr.__main__": 7,
    "tensorexpr": 7,
    # scikit-learn estimators, on top
    "estimators": 8,
    "estimators._base": 8,
    "estimators._constraints": 8,
    "estimators._experiment": 8,
    "estimators._inputs": 8,
    "estimators._networks": 8,
    "estimators._outputs": 8,
    "estimators._patches": 8,
    "estimators._sequences": 8,
    "estimators._training": 8,
}
#: What decomposition/ may use besides tensorly, numpy, scikit-learn: the small building blocks.
DECOMPOSITION_MAY_IMPORT = {name for name, rank in LAYERS.items() if rank <= 2}

#: The upward imports allowed, each a deprecation shim: ``(importer, imported module) -> why``.
#: Only a lazy import (inside a function) is allowed, and only until the shim is removed (the
#: release named, tensorexpr._deprecation.REMOVED_IN); any other upward import still fails.
#: An allowed edge is left out of the import graph, so it is not counted in a cycle: the shim
#: runs only when called, after both modules are loaded, and the engine imports the module
#: back (engine._forms -> features), so with the edge the two would form a cycle.
DEPRECATION_SHIMS = {
    ("tensorexpr.features", "tensorexpr.engine"): (
        "FeatureMap.tf_call delegates to tensorexpr.engine.feature_form; removed in 0.3"
    ),
}

#: The rank of the TensorFlow engine: the modules below it hold no TensorFlow code ...
ENGINE_RANK = LAYERS["tensorexpr.engine"]
#: ... except these, which may import TensorFlow (``tensorflow``, ``keras`` or
#: ``tensorexpr._tensorflow``), each for tensorly's own TensorFlow backend or for the import:
TENSORFLOW_BELOW_ENGINE = {
    "tensorexpr._tensorflow": "the one lazy import of tensorflow (environment default, filter)",
    "tensorexpr._backend": "set_backend('tensorflow') imports it through _tensorflow first",
    "tensorexpr.decomposition._cp": "the CP-ALS sweep compiled by tf.function on that backend",
}
TENSORFLOW_MODULES = ("tensorflow", "keras", "tensorexpr._tensorflow")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _package_of(path: Path, module: str) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _imports(path: Path):
    """``(imported module, [names])`` for every import statement, relative ones resolved."""
    module = _module_name(path)
    package = _package_of(path, module)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            names = [a.name for a in node.names]
            # "from . import x" imports the module x
            if not node.module:
                for name in names:
                    yield f"{target}.{name}", [], node.lineno
            else:
                yield target, names, node.lineno


def _lazy_lines(path: Path) -> set[int]:
    """Line numbers of the import statements inside a function (run when it is called)."""
    lines = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines.update(
                inner.lineno
                for inner in ast.walk(node)
                if isinstance(inner, (ast.Import, ast.ImportFrom))
            )
    return lines


def _is_shim(module: str, imported: str, line: int, lazy: set[int]) -> bool:
    """Whether this import is one of the allowed DEPRECATION_SHIMS (a lazy one)."""
    return (module, imported) in DEPRECATION_SHIMS and line in lazy


def _sources():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _part(module: str, modules=LAYERS) -> str | None:
    """The module of ``modules`` an import target names (``a.b.name`` is in ``a.b``), or None
    for a module outside them."""
    while module:
        if module in modules:
            return module
        module = module.rpartition(".")[0]
    return None


def _private_owner(target: str) -> str | None:
    """For ``a.b._c.d``: the package ``a.b`` that owns the private module ``_c``."""
    parts = target.split(".")
    for k, part in enumerate(parts):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return ".".join(parts[:k])
    return None


def _violations():
    private, upward, decomposition = [], [], []
    for path in _sources():
        module = _module_name(path)
        package = _package_of(path, module)
        where = f"{path.relative_to(ROOT)}"
        lazy = _lazy_lines(path)
        for target, names, line in _imports(path):
            if target == "__future__":
                continue
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    private.append(f"{where}:{line} imports {name} from {target}")
            owner = _private_owner(target)
            if owner is not None and not (package == owner or package.startswith(owner + ".")):
                private.append(f"{where}:{line} imports the private module {target}")
            if module.startswith("tensorexpr") and target.split(".")[0] == "estimators":
                upward.append(
                    f"{where}:{line} imports {target}: tensorexpr never imports estimators"
                )
            mine, theirs = _part(module), _part(target)
            up = mine and theirs and mine != theirs and LAYERS[theirs] > LAYERS[mine]
            if up and not _is_shim(mine, theirs, line, lazy):
                upward.append(f"{where}:{line} ({mine}) imports {target} ({theirs}), a layer above")
            if module.startswith("tensorexpr.decomposition") and target.startswith("tensorexpr"):
                inside = theirs is not None and theirs.startswith("tensorexpr.decomposition")
                if not inside and theirs not in DECOMPOSITION_MAY_IMPORT:
                    decomposition.append(f"{where}:{line} imports {target}")
    return private, upward, decomposition


def _graph() -> dict[str, set[str]]:
    """Module -> the modules of tensorexpr and estimators it imports (the allowed lazy
    DEPRECATION_SHIMS left out: see there)."""
    paths = {_module_name(path): path for path in _sources()}
    graph = {}
    for module, path in paths.items():
        lazy = _lazy_lines(path)
        targets = ((_part(target, paths), line) for target, _, line in _imports(path))
        graph[module] = {
            t
            for t, line in targets
            if t is not None and t != module and not _is_shim(module, t, line, lazy)
        }
    return graph


def _tensorflow_imports() -> list[str]:
    """The imports of TensorFlow below the engine outside TENSORFLOW_BELOW_ENGINE."""
    found = []
    for path in _sources():
        module = _module_name(path)
        rank = LAYERS.get(_part(module) or "", ENGINE_RANK)
        if rank >= ENGINE_RANK or module in TENSORFLOW_BELOW_ENGINE:
            continue
        for target, _, line in _imports(path):
            if _part(target, {name: 0 for name in TENSORFLOW_MODULES}):
                found.append(f"{path.relative_to(ROOT)}:{line} ({module}) imports {target}")
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer():
    modules = _graph()
    unlisted = [module for module in modules if module not in LAYERS]
    assert not unlisted, f"give these modules a rank in LAYERS: {unlisted}"
    gone = [module for module in LAYERS if module not in modules]
    assert not gone, f"LAYERS names modules that do not exist: {gone}"


def test_imports_form_no_cycle():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles (lazy imports included):\n" + "\n".join(map(str, cycles))


def test_no_module_imports_a_private_name_of_another_module():
    private, _, _ = _violations()
    assert not private, "\n".join(private)


def test_layers_point_down_only():
    _, upward, _ = _violations()
    assert not upward, "\n".join(upward)


def test_decomposition_imports_only_the_building_blocks():
    _, _, decomposition = _violations()
    assert not decomposition, "\n".join(decomposition)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from ..networks import _Network\n", "private"),
        ("from tensorexpr.engine._spec import x\n", "private"),
        ("from ..engine import fit_generalized\n", "decomposition"),
        ("from .. import networks\n", "decomposition"),
    ],
)
def test_the_checks_catch_what_they_are_for(tmp_path, monkeypatch, source, expected):
    # a fake decomposition module in a copy of the layout: the checks must flag it
    fake_root = tmp_path
    target = fake_root / "tensorexpr" / "decomposition" / "_fake.py"
    target.parent.mkdir(parents=True)
    target.write_text(source)
    monkeypatch.setitem(globals(), "ROOT", fake_root)
    private, upward, decomposition = _violations()
    found = {"private": private, "decomposition": decomposition}[expected]
    assert found, (source, private, upward, decomposition)


def test_the_checks_catch_a_cycle_and_an_unlisted_module(tmp_path, monkeypatch):
    # expressivity importing certificates, which imports expressivity back inside a function
    # (the cycle of issue 19), and a module no rank names
    package = tmp_path / "tensorexpr" / "analysis"
    package.mkdir(parents=True)
    (package / "expressivity.py").write_text("from .certificates import certify\n")
    (package / "certificates.py").write_text("def certify():\n    from .expressivity import f\n")
    (package / "_new.py").write_text("")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    graph = _graph()
    assert _cycles(graph) == [
        ["tensorexpr.analysis.certificates", "tensorexpr.analysis.expressivity"]
    ]
    assert "tensorexpr.analysis._new" in graph and "tensorexpr.analysis._new" not in LAYERS


def test_below_the_engine_only_the_named_modules_import_tensorflow():
    found = _tensorflow_imports()
    assert not found, "TensorFlow below the engine (its forms go in engine/_forms.py):\n" + (
        "\n".join(found)
    )


@pytest.mark.parametrize("module", ["tensorexpr.operators", "tensorexpr.features"])
def test_operators_and_features_hold_no_tensorflow_code(module):
    # their TensorFlow forms are the engine's (engine/_forms.py): no import, no ``tf`` name
    path = ROOT.joinpath(*module.split(".")).with_suffix(".py")
    targets = [target for target, _, _ in _imports(path)]
    assert not [t for t in targets if t.split(".")[0] == "tensorflow" or "_tensorflow" in t]
    names = {n.id for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Name)}
    assert not {"tf", "tensorflow", "import_tensorflow"} & names


def test_every_deprecation_shim_is_still_there_and_due():
    # a shim removed (or moved) must leave the allow-list too; none outlives its release
    from tensorexpr import __version__
    from tensorexpr._deprecation import REMOVED_IN

    paths = {_module_name(path): path for path in _sources()}
    for (module, imported), why in DEPRECATION_SHIMS.items():
        path = paths[module]
        lazy = _lazy_lines(path)
        assert any(
            _part(target) == imported and line in lazy for target, _, line in _imports(path)
        ), (module, imported)
        assert f"removed in {REMOVED_IN}" in why
        version = tuple(int(p) for p in __version__.split(".")[:2])
        assert version < tuple(int(p) for p in REMOVED_IN.split(".")), why


def _fake_layout(root: Path, features: str, engine: str = "from ..features import FeatureMap\n"):
    (root / "tensorexpr" / "engine").mkdir(parents=True)
    (root / "tensorexpr" / "features.py").write_text(features)
    (root / "tensorexpr" / "engine" / "__init__.py").write_text(engine)


SHIM = "def tf_call():\n    from .engine import feature_form\n"


def test_the_shim_is_allowed_and_makes_no_cycle(tmp_path, monkeypatch):
    _fake_layout(tmp_path, SHIM)
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    _, upward, _ = _violations()
    assert upward == []
    graph = _graph()
    assert graph["tensorexpr.features"] == set()  # left out of the graph, see DEPRECATION_SHIMS
    assert graph["tensorexpr.engine"] == {"tensorexpr.features"}
    assert _cycles(graph) == []


@pytest.mark.parametrize(
    "features",
    [
        "from .engine import feature_form\n",  # the shim's edge, but not lazy
        SHIM + "def other():\n    from .grid import grid_tensor\n",  # another upward import
        "def tf_call():\n    from .engine._train import x\n",  # another module of the engine
    ],
)
def test_any_other_upward_import_still_fails(tmp_path, monkeypatch, features):
    _fake_layout(tmp_path, features)
    (tmp_path / "tensorexpr" / "grid.py").write_text("")
    (tmp_path / "tensorexpr" / "engine" / "_train.py").write_text("from ..features import f\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    _, upward, _ = _violations()
    assert upward, features


def test_a_cycle_beside_the_shim_is_still_caught(tmp_path, monkeypatch):
    # the shim's edge is left out, an ordinary import back from features is not
    _fake_layout(tmp_path, SHIM + "from .engine import x\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert _cycles(_graph()) == [["tensorexpr.engine", "tensorexpr.features"]]


def test_the_tensorflow_check_catches_an_import_below_the_engine(tmp_path, monkeypatch):
    (tmp_path / "tensorexpr").mkdir()
    (tmp_path / "tensorexpr" / "grid.py").write_text(
        "def f():\n    from ._tensorflow import import_tensorflow\n"
    )
    (tmp_path / "tensorexpr" / "features.py").write_text("import tensorflow as tf\n")
    (tmp_path / "tensorexpr" / "_backend.py").write_text("from ._tensorflow import x\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    found = _tensorflow_imports()
    assert len(found) == 2 and not any("_backend" in line for line in found), found
