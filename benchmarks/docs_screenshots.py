"""Screenshots of the built documentation in headless Chromium with every network request
refused, and a count of the formulas MathJax typeset on each page.

    python benchmarks/docs_screenshots.py [--site docs/_build/html] [--out DIR]

Needs Chromium (Debian: ``apt-get install chromium``) and a built site (``tox -e docs``).
Writes ``DIR/<page>.png`` (default ``benchmarks/results/screenshots``) and prints, per page,
the number of ``class="math"`` elements in the HTML and of ``mjx-container`` elements in the
DOM after the scripts ran: equal numbers mean every formula rendered, offline.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = (
    "index.html",
    "theory.html",
    "estimators.html",
    "generated/estimators.TTNetworkClassifier.html",
    "auto_examples/plot_shallow_width.html",
    "reproduced.html",
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: nothing remote can load
    "--virtual-time-budget=10000",
)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return name
    raise SystemExit("no Chromium found (apt-get install chromium)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "docs" / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/screenshots")
    parser.add_argument("--size", default="1400,1800", help="window WIDTH,HEIGHT in px")
    args = parser.parse_args()
    browser = chromium()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{'page':48s} {'formulas':>8s} {'typeset':>8s}")
    for page in PAGES:
        path = (args.site / page).resolve()
        url = path.as_uri()
        shot = args.out / (page.replace("/", "_").removesuffix(".html") + ".png")
        subprocess.run(
            [browser, *FLAGS, f"--window-size={args.size}", f"--screenshot={shot}", url],
            capture_output=True,
            timeout=120,
            check=True,
        )
        dom = subprocess.run(
            [browser, *FLAGS, "--dump-dom", url], capture_output=True, text=True, timeout=120
        ).stdout
        html = path.read_text(encoding="utf-8")
        formulas = len(re.findall(r'class="math[ "]', html))
        typeset = dom.count("<mjx-container")
        print(f"{page:48s} {formulas:8d} {typeset:8d}")


if __name__ == "__main__":
    main()
