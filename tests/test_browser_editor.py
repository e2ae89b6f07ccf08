"""The playground's editor is a real CodeMirror 6, served by this site alone, usable by keyboard.

These drive the committed bundle (site/static/vendor/codemirror.js, rebuilt by `make editor`) in
Chromium: Python highlighting, line numbers, auto-indent, undo, and a way out for keyboard users.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

MOUNT = """async () => {
  const { createEditor } = await import('/static/vendor/codemirror.js');
  const host = document.createElement('div');
  host.id = 'editor-under-test';
  document.querySelector('main').prepend(host);
  const after = document.createElement('button');
  after.id = 'after-editor';
  after.textContent = 'after';
  host.after(after);
  const nonce = document.querySelector('meta[name="csp-nonce"]').content;
  window.editor = createEditor(host, { doc: 'def add(x, y):', label: 'tasks.py', nonce });
}"""


@pytest.fixture
def editor_page(page: Page, base_url: str) -> Page:
    outside = []
    page.on(
        "request",
        lambda r: None if r.url.startswith(base_url) else outside.append(r.url),
    )
    page.goto(f"{base_url}/")
    page.evaluate(MOUNT)
    expect(page.locator("#editor-under-test .cm-editor")).to_be_visible()
    yield page
    assert outside == [], f"the editor fetched from elsewhere: {outside}"


def test_python_is_highlighted_with_line_numbers(editor_page: Page):
    editor = editor_page.locator("#editor-under-test")
    expect(editor.locator(".cm-lineNumbers .cm-gutterElement").filter(has_text="1")).to_be_visible()
    keyword = editor.locator(".cm-line span").filter(has_text="def").first
    expect(keyword).to_be_visible()
    colour = keyword.evaluate("e => getComputedStyle(e).color")
    plain = editor.locator(".cm-content").evaluate("e => getComputedStyle(e).color")
    assert colour != plain, "'def' should be coloured as a keyword"
    expect(editor.locator(".cm-content")).to_have_attribute("aria-label", "tasks.py")


def test_enter_after_a_colon_indents_and_undo_takes_it_back(editor_page: Page):
    content = editor_page.locator("#editor-under-test .cm-content")
    content.click()
    editor_page.keyboard.press("End")
    editor_page.keyboard.press("Enter")
    editor_page.keyboard.type("return x + y")
    assert editor_page.evaluate("editor.getText()") == "def add(x, y):\n    return x + y"
    editor_page.keyboard.press("Control+z")
    assert editor_page.evaluate("editor.getText()") == "def add(x, y):"


def test_tab_indents_but_escape_then_tab_leaves_the_editor(editor_page: Page):
    content = editor_page.locator("#editor-under-test .cm-content")
    content.click()
    editor_page.keyboard.press("Home")
    editor_page.keyboard.press("Tab")
    assert editor_page.evaluate("editor.getText()").startswith("    def")
    editor_page.keyboard.press("Escape")
    editor_page.keyboard.press("Tab")
    expect(editor_page.locator("#after-editor")).to_be_focused()
