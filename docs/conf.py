"""Sphinx configuration of the tensorexpr documentation.

Build: ``tox -e docs`` or ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
Everything generated (API stubs, tutorials, reproduced figures) lands in git-ignored
folders (``generated/``, ``auto_examples/``, ``_build/``) and is rebuilt by each build.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "sphinxext"))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import te_docs  # noqa: E402

import tensorexpr  # noqa: E402

project = "tensorexpr"
author = "the tensorexpr developers"
copyright = "2026, the tensorexpr developers"
release = version = tensorexpr.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 from the package, copied into _static/mathjax
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "sphinxext", "tutorials", "auto_examples/*.ipynb"]
templates_path = ["_templates"]
root_doc = "index"

# The user-guide pages of other modules join the toctree only once they exist, and every
# public name not grouped in api.rst gets a page: the site builds while code lands.
GUIDE_PAGES_FOUND = te_docs.write_guide_toctree(DOCS)
API_UNLISTED = te_docs.write_unlisted_api(DOCS)

# -- API reference -------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options: dict = {}
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
numpydoc_show_class_members = False  # the class template lists the members
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- Formulas: MathJax shipped with the site ----------------------------------------------
# Sphinx loads MathJax from a CDN by default, so no formula renders offline. The PyPI package
# sphinx-mathjax-offline (the docs extra) bundles MathJax 3 with its fonts; its extension copies
# it into _build/html/_static/mathjax, and the pages load it from there (a relative path).
# tests/test_docs_site.py checks that no page loads a remote script.
mathjax_path = "mathjax/tex-chtml.js"

# -- MyST (theory.md, backends.md and the guide pages) -------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# -- Tutorials: executed at every build ----------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["tutorials"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",  # every plot_*.py runs; draft_*.py are kept out
    "ignore_pattern": r"draft_",
    "plot_gallery": "True",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "reset_modules": ("matplotlib", "te_docs.reset_backend"),
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "within_subsection_order": "FileNameSortKey",
    "min_reported_time": 1,
    "write_computation_times": False,  # times are in the build log; keep the source tree clean
}

# -- HTML ----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"tensorexpr {version}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 3,  # the guide's long titles fit one header line
}
html_static_path = ["_static"]
html_css_files = ["tensorexpr.css"]  # long names wrap, code lines wrap, figures 1:1
# The primary sidebar shows the whole site from its top level on every page (the theme's
# default starts a level down, which is empty on the index, theory and reproduced pages).
html_sidebars = {"**": ["sidebar-site-nav"]}


def _reproduce(app) -> None:
    from sphinx.util import logging

    logger = logging.getLogger("tensorexpr.docs")
    if os.environ.get("TENSOREXPR_DOCS_SKIP_REPRODUCE"):
        logger.info("[reproduce] skipped (TENSOREXPR_DOCS_SKIP_REPRODUCE is set)")
        page = DOCS / "generated" / "reproduced.rst.inc"
        if not page.exists():
            page.write_text(".. note:: The figures were not regenerated in this build.\n")
        return
    seconds = te_docs.reproduce_gallery(DOCS, logger)
    logger.info(f"[reproduce] all experiments in {seconds:.1f} s")


def setup(app):
    app.connect("builder-inited", _reproduce, priority=100)
    app.connect("autodoc-skip-member", te_docs.skip_member)
    app.connect("autodoc-process-docstring", te_docs.escape_shapes, priority=100)
    app.connect("html-page-context", te_docs.fix_viewcode_backlinks)
    app.connect("html-page-context", te_docs.clean_tooltips)
