"""Docstrings of the public API: what the documentation site (docs/api.rst) is built from.

Every name in ``tensorexpr.__all__`` has a numpy-style docstring with

- ``Parameters`` when it is a function or a class that takes arguments,
- ``Returns`` (or ``Yields``) when it is a function,
- ``Examples``.

One test collects every failing name, so that the failure message is the to-do list.
"""

from __future__ import annotations

import inspect
import re

import estimators
import tensorexpr

SECTION = "^{name}\n-{{3,}}$"


def _has_section(doc: str, *names: str) -> bool:
    return any(re.search(SECTION.format(name=name), doc, flags=re.MULTILINE) for name in names)


def _takes_arguments(obj) -> bool:
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # builtins without a signature
        return False
    # a bare ``(*args, **kwargs)`` is the generic signature of a base class, not parameters
    generic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return any(
        name not in ("self", "cls") and param.kind not in generic
        for name, param in signature.parameters.items()
    )


def _section_docs(obj) -> str:
    """The docstring numpydoc renders: a class's own, plus its ``__init__``'s if any."""
    doc = inspect.getdoc(obj) or ""
    if inspect.isclass(obj) and obj.__init__ is not object.__init__:
        init_doc = obj.__dict__.get("__init__", None)
        if init_doc is not None and init_doc.__doc__:
            doc += "\n" + inspect.cleandoc(init_doc.__doc__)
    return doc


def missing_sections(obj) -> list[str]:
    """Sections the docstring of ``obj`` lacks (empty list: complete)."""
    doc = _section_docs(obj)
    if not doc.strip():
        return ["docstring"]
    missing = []
    if callable(obj) and _takes_arguments(obj) and not _has_section(doc, "Parameters"):
        missing.append("Parameters")
    if inspect.isroutine(obj) and not _has_section(doc, "Returns", "Yields"):
        missing.append("Returns")
    if not _has_section(doc, "Examples"):
        missing.append("Examples")
    return missing


def test_public_names_exist():
    absent = [name for name in tensorexpr.__all__ if not hasattr(tensorexpr, name)]
    assert not absent, f"names in tensorexpr.__all__ that tensorexpr does not define: {absent}"


def test_public_docstrings_have_parameters_returns_examples():
    failing = {}
    for package in (tensorexpr, estimators):
        for name in package.__all__:
            missing = missing_sections(getattr(package, name))
            if missing:
                failing[f"{package.__name__}.{name}"] = missing
    report = "\n".join(f"  {name}: missing {', '.join(m)}" for name, m in failing.items())
    assert not failing, f"{len(failing)} public names lack docstring sections:\n{report}"


def test_missing_sections_detects_gaps():
    def documented(x):
        """Double.

        Parameters
        ----------
        x : float

        Returns
        -------
        float

        Examples
        --------
        >>> 2 * 1.0
        2.0
        """
        return 2 * x

    def bare(x):
        """Double."""
        return 2 * x

    assert missing_sections(documented) == []
    assert missing_sections(bare) == ["Parameters", "Returns", "Examples"]


def _ci_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_readme_states_word_for_word_what_ci_runs():
    """README's test command block and the commands of .ci/run are the same lines."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    block = readme.split("CI (`.ci/run`) runs exactly these", 1)[1].split("```bash", 1)[1]
    block = _ci_lines(block.split("```", 1)[0])
    script = (root / ".ci" / "run").read_text()
    commands = _ci_lines(script.split("# --- README test command", 1)[1].split("\n", 1)[1])
    assert block == commands
    assert len(block) == 3
