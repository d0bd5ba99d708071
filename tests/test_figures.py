"""The figures of ``tensorexpr reproduce`` are readable at page width: no wider than
``PAGE_WIDTH_IN`` (shown 1:1 in the documentation's text column), no text under
``MIN_FONT_PT``, long titles wrapped, and theorem1's plateaus labelled."""

from __future__ import annotations

import struct

import pytest
from matplotlib.text import Text

from tensorexpr.experiments import get_experiment
from tensorexpr.experiments._base import (
    FIGURE_DPI,
    MIN_FONT_PT,
    PAGE_WIDTH_IN,
    new_figure,
    save_figure,
)


def _png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def _visible_texts(fig):
    return [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]


def test_save_figure_shrinks_raises_fonts_and_wraps(tmp_path):
    fig, (left, right) = new_figure(1, 2, figsize=(12, 4))
    left.plot([1, 2], [3, 4], label="a curve")
    left.legend(fontsize=6)
    left.set_xlabel("x", fontsize=5)
    right.set_title("a title far too long for the half of a page-wide figure, so it wraps")
    fig.suptitle("a figure title " * 12)
    save_figure(fig, tmp_path / "f.png")
    width, height = _png_size(tmp_path / "f.png")
    assert width <= PAGE_WIDTH_IN * FIGURE_DPI + 1
    assert abs(width / height - 3.0) < 0.05  # the aspect is kept
    assert min(t.get_fontsize() for t in _visible_texts(fig)) >= MIN_FONT_PT
    assert "\n" in right.get_title() and "\n" in fig._suptitle.get_text()


@pytest.mark.parametrize("name", ["theorem1", "fig3", "theorem5_2"])
def test_quick_figures_fit_the_page(name, tmp_path):
    exp = get_experiment(name)
    exp.plot(exp.run(quick=True, seed=0), tmp_path / "f.png")
    width, _ = _png_size(tmp_path / "f.png")
    assert width <= PAGE_WIDTH_IN * FIGURE_DPI + 1


def test_theorem1_labels_every_plateau(tmp_path):
    from tensorexpr.experiments import theorem1

    result = theorem1.run(quick=True, seed=0)
    fig = theorem1.figure(result)
    save_figure(fig, tmp_path / "t.png")
    assert min(t.get_fontsize() for t in _visible_texts(fig)) >= MIN_FONT_PT
    dense = [row for row in result.rows if row.get("method", "dense") == "dense"]
    for ax, d in zip(fig.axes, sorted({row["d"] for row in dense}), strict=False):
        plateau = max(row["bound"] for row in dense if row["d"] == d)  # min(m, r)^(d/2), r >= m
        labels = {t.get_text() for t in ax.get_yticklabels()}
        assert str(plateau) in labels, (d, plateau, labels)
    # quick settings: m = 3 at d = 2, 4, 6
    assert {max(row["bound"] for row in dense if row["d"] == d) for d in (2, 4, 6)} == {3, 9, 27}


def test_fig3_summary_says_it_in_sentences():
    from tensorexpr.experiments import fig3

    verdicts = {
        "a": {"reproduces_paper": True, "rank1_for_every_R": True, "fraction_falls_with_R": True},
        "b": {"reproduces_paper": False, "rank1_for_every_R": True, "fraction_falls_with_R": False},
        "c": {"reproduces_paper": False, "rank1_for_every_R": False, "fraction_falls_with_R": True},
        "d": {
            "reproduces_paper": False,
            "rank1_for_every_R": False,
            "fraction_falls_with_R": False,
        },
    }
    text = fig3.conclusion(verdicts)
    assert "1 of the 4 sampling variants reproduce both: a." in text
    assert "not less often as R grows, for 1: b." in text
    assert "no network has it at some R, for 1: c." in text
    assert "Neither holds for 1: d." in text
    none = fig3.conclusion({"b": verdicts["b"]})
    assert "None of the 1 sampling variants reproduces both." in none
