"""The layers of docs/index (decomposition at the bottom, the engine and experiments above)
point down only, and no module imports a private name of another module: read from the source
with ``ast``, lazy imports inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tensorexpr", "estimators")

#: Rank of each part of tensorexpr: a module may import parts of a lower or equal rank only.
#: Modules not listed (new ones) are held to the private-name rule only.
LAYERS = {
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
    "tensorexpr.decomposition": 3,
    "tensorexpr.networks": 3,
    "tensorexpr.expressivity": 4,
    "tensorexpr.network_io": 4,
    "tensorexpr.engine": 5,
    "tensorexpr.experiments": 6,
    "tensorexpr.cli": 7,
    "tensorexpr.__main__": 7,
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


def _part(module: str) -> str | None:
    """The entry of LAYERS a module belongs to (its longest listed prefix)."""
    best = None
    for name in LAYERS:
        if module == name or module.startswith(name + "."):
            if best is None or len(name) > len(best):
                best = name
    return best


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
                if theirs != "tensorexpr.decomposition" and theirs not in DECOMPOSITION_MAY_IMPORT:
                    decomposition.append(f"{where}:{line} imports {target}")
    return private, upward, decomposition


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
