"""The code stylesheet: every token colour reads on its background, and the file is current."""

from __future__ import annotations

import pytest

from config import ROOT
from web.lessons import pygments_css
from web.lessons.pygments_css import accessible, contrast, readable


@pytest.mark.parametrize("name", ["friendly", "monokai"])
def test_every_token_colour_reaches_wcag_aa_on_the_code_background(name):
    style = accessible(name)
    for token, spec in style.list_styles():
        if not spec["color"]:
            continue
        background = "#" + (spec["bgcolor"] or style.background_color.lstrip("#"))
        assert contrast("#" + spec["color"], background) >= 4.5, (token, spec, background)


def test_the_plain_friendly_style_fails_so_the_fix_is_needed():
    assert contrast("#60a0b0", "#f0f0f0") < 3  # friendly's comments, as Pygments ships them


@pytest.mark.parametrize(
    ("colour", "background"), [("#60a0b0", "#f0f0f0"), ("#75715e", "#272822"), ("#ffffff", "#fff")]
)
def test_readable_moves_a_colour_only_as_far_as_it_must(colour, background):
    fixed = readable(colour, background)
    assert contrast(fixed, background) >= pygments_css.MIN_CONTRAST
    if contrast(colour, background) >= pygments_css.MIN_CONTRAST:
        assert fixed == colour


def test_a_colour_that_already_passes_is_kept():
    assert readable("#06287e", "#f0f0f0") == "#06287e"


def test_the_committed_stylesheet_is_what_make_pygments_css_writes():
    committed = (ROOT / "site" / "static" / "css" / "pygments.css").read_text()
    assert committed == pygments_css.stylesheet() + "\n", "run `make pygments-css`"
