"""Build steps of the tensorexpr documentation, kept out of conf.py so that Sphinx can
pickle the configuration (callables are named by their import path).

- :func:`write_guide_toctree`: the user-guide pages written by other modules' authors
  (``decomposition.md``, ``expressivity.md``, ``estimators.md``) join the toctree only
  when they exist, so the site builds while they are being written.
- :func:`write_unlisted_api`: every name of ``tensorexpr.__all__`` / ``estimators.__all__``
  that ``api.rst`` does not list by hand gets a page, so the reference is never incomplete.
- :func:`reproduce_gallery`: runs every registered ``tensorexpr reproduce`` experiment in
  quick mode and writes the page ``generated/reproduced.rst.inc`` embedding its figures.
- :func:`reset_backend`: sphinx-gallery resetter; each tutorial starts on numpy.
- :func:`fix_viewcode_backlinks`: the "[docs]" links of the highlighted source pages point
  at the anchor each object has on its API page.
- :func:`clean_tooltips`: the gallery's thumbnail tooltips (a tutorial's first paragraph)
  without the double backquotes of inline literals.
"""

from __future__ import annotations

import re
import time
import traceback
from pathlib import Path

GUIDE_PAGES = {
    "decomposition": "Decompositions: CP, TT and HT",
    "expressivity": "Expressivity: ranks and width bounds",
    "estimators": "Estimators: TT-networks in scikit-learn",
    "cross": "TT-cross: grid tensors too large to form",
    "larger_than_memory": "Larger than memory: TT, HT and CP on Dask arrays",
}


def _write_if_changed(path: Path, text: str) -> None:
    # Rewriting an unchanged file would make Sphinx re-read every page including it.
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def write_guide_toctree(docs: Path) -> list[str]:
    """Write ``generated/guide_toctree.rst.inc``; returns the pages found."""
    found = [name for name in GUIDE_PAGES if (docs / f"{name}.md").exists()]
    lines = [".. toctree::", "   :maxdepth: 2", "   :caption: User guide", ""]
    lines += ["   theory", "   backends"]
    lines += [f"   {name}" for name in found]
    _write_if_changed(docs / "generated" / "guide_toctree.rst.inc", "\n".join(lines) + "\n")
    return found


def public_names() -> dict[str, list[str]]:
    """``__all__`` of each documented package (estimators only if it imports)."""
    import tensorexpr

    names = {"tensorexpr": list(tensorexpr.__all__)}
    try:
        import estimators
    except Exception:  # noqa: BLE001 - the estimators package is optional for the docs
        return names
    names["estimators"] = list(estimators.__all__)
    return names


def listed_names(api_rst: Path) -> dict[str, set[str]]:
    """Names listed in the autosummary blocks of ``api.rst``, by module."""
    listed: dict[str, set[str]] = {}
    module = None
    for line in api_rst.read_text().splitlines():
        match = re.match(r"\.\. currentmodule:: (\S+)", line)
        if match:
            module = match.group(1)
            continue
        match = re.match(r"^\s{3,}~?([A-Za-z_][\w.]*)\s*$", line)
        if match and module is not None:
            listed.setdefault(module, set()).add(match.group(1).split(".")[-1])
    return listed


def write_unlisted_api(docs: Path) -> dict[str, list[str]]:
    """Write ``generated/api_unlisted.rst`` for public names api.rst misses; returns them."""
    listed = listed_names(docs / "api.rst")
    missing = {
        module: [n for n in names if n not in listed.get(module, set())]
        for module, names in public_names().items()
    }
    missing = {module: names for module, names in missing.items() if names}
    # api.rst includes this toctree: empty (no "Not yet grouped" entry in the sidebar) unless
    # some public name is missing from the reference
    toctree = ["", ".. toctree::", "   :hidden:", "", "   generated/api_unlisted", ""]
    _write_if_changed(
        docs / "generated" / "api_unlisted.rst.inc", "\n".join(toctree if missing else [""]) + "\n"
    )
    lines = [
        ":orphan:",
        "",
        "Not yet grouped",
        "===============",
        "",
        "Public names that the :doc:`../api` does not group yet (generated at build time).",
        "",
    ]
    if not missing:
        lines.append("Every public name is listed in the reference.")
    for module, names in missing.items():
        lines += [f".. currentmodule:: {module}", "", ".. autosummary::", "   :toctree: .", ""]
        lines += [f"   {name}" for name in names]
        lines.append("")
    _write_if_changed(docs / "generated" / "api_unlisted.rst", "\n".join(lines) + "\n")
    return missing


def reproduce_gallery(docs: Path, logger) -> float:
    """Run every registered experiment (quick) and write the gallery include; returns seconds."""
    import matplotlib

    matplotlib.use("Agg")
    from tensorexpr.experiments import get_experiment, list_experiments

    out = docs / "generated" / "reproduced"
    out.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    start = time.perf_counter()
    for name in sorted(list_experiments()):
        title = f"``tensorexpr reproduce {name} --quick``"
        lines += [title, "-" * len(title), ""]
        try:
            exp = get_experiment(name)
        except Exception as err:  # noqa: BLE001 - a plugin whose module has not landed
            # An optional entry point that cannot load is reported on the page, not fatal.
            logger.info(f"[reproduce] {name}: cannot load ({err})")
            lines += [f".. note:: This experiment cannot be loaded in this build: ``{err}``.", ""]
            continue
        lines += [exp.description, ""]
        t0 = time.perf_counter()
        try:
            result = exp.run(quick=True, seed=0)
            exp.plot(result, out / f"{name}.png")
            result.save(out)
        except Exception:  # noqa: BLE001 - a broken experiment must fail the -W build
            logger.warning(f"[reproduce] {name} failed:\n{traceback.format_exc()}")
            lines += [".. note:: This experiment failed in this build.", ""]
            continue
        seconds = time.perf_counter() - t0
        import matplotlib.pyplot as plt

        plt.close("all")
        logger.info(f"[reproduce] {name}: {seconds:.1f} s")
        lines += [
            f".. figure:: generated/reproduced/{name}.png",
            f"   :alt: figure of the experiment {name}",
            f"   :width: {_display_width(out / f'{name}.png')}px",
            "",
            f"   Regenerated by this build in {seconds:.1f} s (quick settings, seed 0). "
            f"Data: :download:`{name}.csv <generated/reproduced/{name}.csv>`, "
            f":download:`{name}.json <generated/reproduced/{name}.json>`.",
            "",
        ]
        lines += summary_lines(result.summary)
    _write_if_changed(docs / "generated" / "reproduced.rst.inc", "\n".join(lines) + "\n")
    return time.perf_counter() - start


def _display_width(png: Path) -> int:
    """Width (CSS px) to show a figure at: its size in inches at DISPLAY_PX_PER_IN, so that
    its fonts (>= MIN_FONT_PT) read as 12.5 px and up (tensorexpr/experiments/_base.py)."""
    import struct

    from tensorexpr.experiments._base import DISPLAY_PX_PER_IN, FIGURE_DPI

    width = struct.unpack(">I", png.read_bytes()[16:20])[0]
    return round(width * DISPLAY_PX_PER_IN / FIGURE_DPI)


def summary_lines(summary: dict) -> list[str]:
    """The summary of a reproduced result as reST: its ``conclusion`` (sentences) as a
    paragraph, then a table of the other scalar entries, in words (``yes`` / ``no``, lists
    joined, an empty list ``none``)."""
    lines: list[str] = []
    if summary.get("conclusion"):
        lines += [str(summary["conclusion"]).replace("`", "'"), ""]
    rows = {
        k: v
        for k, v in summary.items()
        if k != "conclusion" and not isinstance(v, dict) and not (isinstance(v, list) and v)
    }
    rows.update({k: v for k, v in summary.items() if isinstance(v, list) and 0 < len(v) <= 10})
    if not rows:
        return lines
    lines += [".. list-table:: Summary", "   :widths: 35 65", ""]
    for key, value in rows.items():
        if isinstance(value, bool):
            text = "yes" if value else "no"
        elif isinstance(value, float):
            text = f"{value:.4g}"
        elif isinstance(value, list):
            text = "; ".join(str(v) for v in value) or "none"
        else:
            text = str(value)
        text = text.replace("\n", " ").replace("`", "'") or " "
        lines += [f"   * - {key.replace('_', ' ')}", f"     - {text}"]
    lines.append("")
    return lines


def reset_backend(gallery_conf, fname) -> None:
    """Start every tutorial on the numpy backend (a tutorial may switch it)."""
    import tensorexpr as te

    te.set_backend("numpy")


_FOREIGN = {"sklearn", "tensorly", "builtins", "abc", "typing", "numpy", "keras", "tensorflow"}
_REQUEST_METHOD = re.compile(r"^set_\w+_request$")
_TRAILING_UNDERSCORE = re.compile(r"(\w)_(?=[\s,)\]]|$)")


def skip_member(app, what, name, obj, skip, options):
    """Hide scikit-learn's generated metadata-routing methods (``set_fit_request``...)."""
    if _REQUEST_METHOD.match(name):
        return True
    # Inherited members are documented (networks inherit grid_tensor from a private base),
    # except those of third-party bases (scikit-learn's get_params, tensorly's methods...).
    target = getattr(obj, "fget", None) or getattr(obj, "__func__", None) or obj
    module = getattr(target, "__module__", None) or ""
    if module.split(".")[0] in _FOREIGN:
        return True
    return None


def escape_shapes(app, what, name, obj, options, lines) -> None:
    """Escape fitted-attribute names in shape specs, e.g. ``of shape (n_features_in_,)``.

    In reST ``name_`` is a hyperlink reference; scikit-learn style shapes name fitted
    attributes, in a parameter's type (which numpydoc copies verbatim), a Returns line or the
    prose. Inside parentheses, outside inline literals and doctest lines, ``name_`` becomes
    ``name\\_`` (shown as ``name_``).
    """

    def escape(text: str) -> str:
        return re.sub(
            r"\(([^()]*)\)",
            lambda m: "(" + _TRAILING_UNDERSCORE.sub(r"\1\\_", m.group(1)) + ")",
            text,
        )

    for i, line in enumerate(lines):
        if "(" not in line or line.lstrip().startswith((">>>", "...")):
            continue
        parts = line.split("``")
        lines[i] = "``".join(escape(part) if k % 2 == 0 else part for k, part in enumerate(parts))


_BACKLINK = re.compile(
    r'href="(?P<page>[^"#]*generated/(?P<stem>[^"/#]+)\.html)#(?P<anchor>[^"]+)"'
)


def fix_viewcode_backlinks(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: correct the "[docs]" links of ``_modules/`` pages.

    sphinx.ext.viewcode prefixes every backlink of a source module with the module name under
    which the *first* of its objects was documented: ``tensorexpr.cross._cross`` holds
    ``tt_cross`` (documented as ``tensorexpr.tt_cross``) and ``tt_entries`` (documented as
    ``tensorexpr.cross.tt_entries``), so the latter's link read ``#tensorexpr.tt_entries``.
    An autosummary page is named after the object it documents, which gives the anchor.
    """
    if not pagename.startswith("_modules/") or "body" not in context:
        return

    def fixed(match: re.Match) -> str:
        stem, parts = match["stem"], match["anchor"].split(".")
        last = stem.rsplit(".", 1)[-1]
        if last not in parts:
            return match[0]
        rest = parts[parts.index(last) + 1 :]
        anchor = ".".join([stem, *rest])
        return f'href="{match["page"]}#{anchor}"'

    context["body"] = _BACKLINK.sub(fixed, context["body"])


_TOOLTIP = re.compile(r'tooltip="([^"]*)"')


def clean_tooltips(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` handler: inline literals (````x````) of the first paragraph of a
    tutorial, which sphinx-gallery copies verbatim into its thumbnail's tooltip, show as
    plain text there. (Formulas are not rewritten: a tutorial's first paragraph has none,
    tests/test_docs_site.py checks it.)"""
    body = context.get("body")
    if not body or "tooltip=" not in body:
        return
    context["body"] = _TOOLTIP.sub(lambda m: f'tooltip="{m[1].replace("``", "")}"', body)
