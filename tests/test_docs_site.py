"""The built documentation site works offline: every script, style sheet, font and image it
loads is a local file, every formula reaches MathJax (shipped with the site, see docs/conf.py),
no raw LaTeX delimiter is left in the text a reader sees, and every internal link resolves.

The checks run on a site this module builds itself from a copy of docs/ (tutorials and the
reproduced figures not executed: ``-D plot_gallery=0`` and ``TENSOREXPR_DOCS_SKIP_REPRODUCE``,
about 15-30 s), and also on ``docs/_build/html`` when a full build (``tox -e docs``) is there.
The docs tools are in the ``test`` extra, so CI runs them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FULL_SITE = DOCS / "_build" / "html"

#: attributes through which a page loads something (``<a href>`` is navigation, not a load)
LOADING = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "link": ("href",),  # only for rel stylesheet / preload / icon / modulepreload, see below
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
}
LOADING_REL = {"stylesheet", "preload", "icon", "shortcut", "modulepreload", "prefetch"}
#: text a reader must never see: LaTeX delimiters MathJax did not get
RAW_MATH = ("\\(", "\\)", "\\[", "\\]", "$$")
#: elements whose text is not prose: formulas (MathJax typesets them), code, scripts
NOT_PROSE_CLASSES = {"math"}
NOT_PROSE_TAGS = {"script", "style", "pre", "code", "kbd", "samp", "textarea", "tt"}
LATEX_COMMAND = re.compile(r"\\[a-zA-Z]+")
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr", "param"}


def _remote(url: str) -> bool:
    url = url.strip()
    return url.startswith("//") or urlsplit(url).scheme in ("http", "https", "ftp", "ws", "wss")


class _Page(HTMLParser):
    """What one HTML page loads, links to, defines (ids) and shows as prose."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.prose: list[str] = []
        self.tooltips: list[str] = []
        self.math = 0  # elements of class "math"
        self.mathjax_scripts: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, hides its text)

    def _hidden(self) -> bool:
        return any(hides for _, hides in self._stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        classes = set((attrs.get("class") or "").split())
        if "math" in classes:
            self.math += 1
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        rel = set((attrs.get("rel") or "").lower().split())
        if tag in LOADING and (tag != "link" or rel & LOADING_REL):
            for key in LOADING[tag]:
                value = attrs.get(key)
                if value:
                    urls = (
                        [part.split()[0] for part in value.split(",")]
                        if "srcset" in key
                        else [value]
                    )
                    self.loads.extend(u for u in urls if u)
        if tag == "script" and "mathjax" in (attrs.get("src") or "").lower():
            self.mathjax_scripts.append(attrs["src"])
        for key in ("tooltip", "title", "alt", "aria-label"):
            if attrs.get(key):
                self.tooltips.append(attrs[key])
        if tag in VOID:
            return
        hides = tag in NOT_PROSE_TAGS or bool(classes & NOT_PROSE_CLASSES)
        self._stack.append((tag, hides))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self._stack and self._stack[-1][0] == tag:
            self._stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        for i in range(len(self._stack) - 1, -1, -1):  # tolerate unclosed inner tags
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data):
        if not self._hidden():
            self.prose.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    page.close()
    return page


def site_problems(site: Path) -> list[str]:
    """Every offline / raw-math / broken-link problem of the site in folder ``site``."""
    problems: list[str] = []
    site = site.resolve()
    # _static/ holds the theme's HTML templates (Jinja), not pages
    found = [p for p in sorted(site.rglob("*.html")) if "_static" not in p.relative_to(site).parts]
    pages = {path.resolve(): _parse(path) for path in found}
    if not pages:
        return [f"{site}: no HTML page"]
    for path, page in pages.items():
        name = path.relative_to(site).as_posix()
        for url in page.loads:
            if _remote(url):
                problems.append(f"{name}: loads a remote asset {url}")
                continue
            target = _local_target(path, url)
            if target is not None and not target.exists():
                problems.append(f"{name}: loads {url}, which the site lacks")
        text = "".join(page.prose)
        for token in RAW_MATH:
            if token in text:
                where = text.index(token)
                context = " ".join(text[max(0, where - 40) : where + 40].split())
                problems.append(f"{name}: raw {token!r} in the text: ...{context}...")
        for tip in page.tooltips:
            if any(t in tip for t in RAW_MATH) or "``" in tip or LATEX_COMMAND.search(tip):
                problems.append(f"{name}: raw markup in a tooltip / title: {tip[:80]!r}")
        if page.math and not page.mathjax_scripts:
            problems.append(f"{name}: {page.math} formulas but no MathJax script")
        for src in page.mathjax_scripts:
            if _remote(src):
                continue  # reported above as a remote asset
            if not _local_target(path, src).is_file():
                problems.append(f"{name}: MathJax script {src} is not in the site")
        for href in page.links:
            problem = _broken_link(site, path, href, pages)
            if problem:
                problems.append(f"{name}: {problem}")
    for css in sorted(site.rglob("*.css")):
        for url in CSS_URL.findall(css.read_text(encoding="utf-8", errors="replace")):
            if _remote(url):
                problems.append(f"{css.relative_to(site).as_posix()}: loads {url}")
    return problems


def _local_target(page: Path, url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme or not parts.path:  # data:, mailto:, javascript:, a bare #fragment
        return None
    return (page.parent / unquote(parts.path)).resolve()


def _broken_link(site: Path, page: Path, href: str, pages: dict) -> str | None:
    if _remote(href) or href.startswith(("mailto:", "javascript:", "data:")):
        return None
    parts = urlsplit(href)
    if parts.scheme:
        return None
    target = page.resolve() if not parts.path else _local_target(page, href)
    if target.is_dir():
        target = target / "index.html"
    if not target.exists():
        return f"link {href} points to a missing file"
    if parts.fragment and target.suffix == ".html":
        parsed = pages.get(target)
        if parsed is not None and unquote(parts.fragment) not in parsed.ids:
            return f"link {href}: no anchor #{parts.fragment} in {target.name}"
    return None


# -- the checker itself finds what it must -------------------------------------------------

BAD_PAGE = """<html><head>
<script src="https://cdn.example.org/mathjax/tex-chtml.js"></script>
<link rel="stylesheet" href="_static/missing.css">
</head><body id="top">
<p>The operator \\(\\xi\\) and $$x$$.</p><span class="math">\\(\\xi\\)</span>
<div tooltip="uses ``xi='relu_max'``">x</div><div tooltip="has 8^{16} \\approx">y</div>
<a href="other.html">fine</a> <a href="gone.html">broken</a> <a href="other.html#nowhere">x</a>
<a href="#top">self</a> <a href="https://example.org">external is fine</a>
<pre>code may show \\( literally</pre>
</body></html>
"""
GOOD_PAGE = """<html><head><script defer src="_static/mathjax/tex-chtml.js"></script></head>
<body id="top"><p>The operator <span class="math notranslate">\\(\\xi\\)</span>.</p>
<a href="index.html#top">back</a> <a href="index.html">home</a></body></html>
"""


def test_the_checker_reports_remote_raw_and_broken(tmp_path):
    (tmp_path / "index.html").write_text(BAD_PAGE)
    (tmp_path / "other.html").write_text(GOOD_PAGE)
    (tmp_path / "_static" / "mathjax").mkdir(parents=True)
    (tmp_path / "_static" / "mathjax" / "tex-chtml.js").write_text("")
    (tmp_path / "_static" / "font.css").write_text("@font-face { src: url(https://x.org/f.woff) }")
    problems = site_problems(tmp_path)
    text = "\n".join(problems)
    assert "index.html: loads a remote asset https://cdn.example.org" in text
    assert "loads _static/missing.css, which the site lacks" in text
    assert "raw '\\\\(' in the text" in text and "raw '$$' in the text" in text
    assert "raw markup in a tooltip" in text
    assert "link gone.html points to a missing file" in text
    assert "no anchor #nowhere" in text
    assert "_static/font.css: loads https://x.org/f.woff" in text
    assert not any(p.startswith("other.html:") for p in problems), problems  # the good page
    assert not any("#top" in p or "example.org\n" in p for p in problems)
    assert "code may show" not in text  # code is not prose
    assert len(problems) == 10, problems


# -- the real site -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_site(tmp_path_factory) -> Path:
    """The site built from a copy of docs/ (so the source tree's generated files stay as they
    are), tutorials and reproduced figures not executed, warnings as errors."""
    import sphinx  # noqa: F401 - the docs tools are in the test extra: a missing one fails

    work = tmp_path_factory.mktemp("docs")
    source = work / "docs"
    shutil.copytree(
        DOCS,
        source,
        ignore=shutil.ignore_patterns("_build", "generated", "auto_examples", "__pycache__"),
    )
    out = work / "html"
    env = dict(os.environ, TENSOREXPR_DOCS_SKIP_REPRODUCE="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
        + ["-D", "plot_gallery=0", str(source), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return out


def test_quick_site_is_offline_rendered_and_linked(quick_site):
    problems = site_problems(quick_site)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])
    # the formulas of theory.md reach the local MathJax with its fonts
    theory = _parse(quick_site / "theory.html")
    assert theory.math > 20 and theory.mathjax_scripts == ["_static/mathjax/tex-chtml.js"]
    fonts = quick_site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert (fonts / "MathJax_Main-Regular.woff").is_file()


def navigation_problems(site: Path) -> list[str]:
    """Pages whose left sidebar (the site's contents) is empty, or that list an entry
    "Not yet grouped" (public names api.rst misses; the site must list none)."""
    problems = []
    for path in sorted(site.rglob("*.html")):
        name = path.relative_to(site).as_posix()
        if name.startswith(("_static/", "_modules/", "_sources/")):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        nav = re.search(r'<nav class="bd-docs-nav[^"]*"(.*?)</nav>', text, flags=re.S)
        if nav is None or "<a " not in nav.group(1):
            problems.append(f"{name}: empty navigation sidebar")
        elif "Not yet grouped" in nav.group(1):
            problems.append(f"{name}: a 'Not yet grouped' entry")
    return problems


def test_every_page_has_the_site_navigation(quick_site):
    problems = navigation_problems(quick_site)
    assert not problems, "\n".join(problems[:40])
    # the index, theory and reproduced pages (top level: the theme's own sidebar was empty)
    index = (quick_site / "index.html").read_text()
    for page in ("theory.html", "reproduced.html", "api.html"):
        assert f'href="{page}"' in index.split('<nav class="bd-docs-nav', 1)[1].split("</nav>")[0]


def test_the_navigation_check_finds_an_empty_sidebar(tmp_path):
    (tmp_path / "a.html").write_text('<nav class="bd-docs-nav bd-links"><p>x</p></nav>')
    (tmp_path / "b.html").write_text('<nav class="bd-docs-nav"><a href="a.html">a</a></nav>')
    (tmp_path / "c.html").write_text(
        '<nav class="bd-docs-nav"><a href="u">Not yet grouped</a></nav>'
    )
    assert navigation_problems(tmp_path) == [
        "a.html: empty navigation sidebar",
        "c.html: a 'Not yet grouped' entry",
    ]


def test_full_site_when_built(quick_site):
    """``docs/_build/html`` from ``tox -e docs`` (tutorials and figures executed), if any;
    otherwise the quick site stands in (the same pages, without the outputs)."""
    site = FULL_SITE if (FULL_SITE / "index.html").exists() else quick_site
    problems = site_problems(site)
    assert not problems, f"{site}: {len(problems)} problems:\n" + "\n".join(problems[:40])
