"""web/lessons/content.py: the markdown of YAML content, as a block and inline."""

from __future__ import annotations

from web.lessons.content import block_html, inline_html


def test_one_paragraph_goes_inline_without_its_p():
    assert inline_html("Pick **one**.") == "Pick <strong>one</strong>."
    assert block_html("Pick **one**.") == "<p>Pick <strong>one</strong>.</p>"


def test_more_than_one_paragraph_stays_a_block():
    assert inline_html("One.\n\nTwo.") == "<p>One.</p>\n<p>Two.</p>"


def test_code_is_highlighted_and_a_keyboard_can_reach_it():
    html = block_html("```python\nadd.delay(2, 3)\n```")
    assert '<div class="highlight" tabindex="0" role="group" aria-label="Code example">' in html
    assert "<pre>" in html and "delay" in html and "```" not in html


def test_an_admonition_is_a_note_box():
    assert '<div class="admonition note">' in block_html("!!! note\n    Mind the queue.\n")
