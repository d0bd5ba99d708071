"""The layers of docs/index (decomposition at the bottom, the engine and experiments above)
point down only, every module has a layer, the imports form no cycle, and no module imports a
private name of another module: read from the source with ``ast``, lazy imports inside
functions included."""

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
    "estimators._networks": 8,
    "estimators._patches": 8,
    "estimators._sequences": 8,
    "estimators._training": 8,
}
#: What decomposition/ may use besides tensorly, numpy, scikit-learn: the small building blocks.
DECOMPOSITION_MAY_IMPORT = {name for name, rank in LAYERS.items() if rank <= 2}


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
            if mine and theirs and mine != theirs and LAYERS[theirs] > LAYERS[mine]:
                upward.append(f"{where}:{line} ({mine}) imports {target} ({theirs}), a layer above")
            if module.startswith("tensorexpr.decomposition") and target.startswith("tensorexpr"):
                inside = theirs is not None and theirs.startswith("tensorexpr.decomposition")
                if not inside and theirs not in DECOMPOSITION_MAY_IMPORT:
                    decomposition.append(f"{where}:{line} imports {target}")
    return private, upward, decomposition


def _graph() -> dict[str, set[str]]:
    """Module -> the modules of tensorexpr and estimators it imports."""
    paths = {_module_name(path): path for path in _sources()}
    graph = {}
    for module, path in paths.items():
        targets = (_part(target, paths) for target, _, _ in _imports(path))
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


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
