"""axe-core, the accessibility engine, run in a Playwright page.

The engine is vendored under tests/vendor/axe-core (refreshed by ``make vendor-axe``) and
added as an init script: DevTools injects it, so the page's Content-Security-Policy needs no
hole for it, and no page ever loads it from anywhere.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from playwright.sync_api import BrowserContext, Page

AXE = Path(__file__).parent.parent / "vendor" / "axe-core" / "axe.min.js"

# Every display the site offers: its two themes, and large type (for projectors) in each.
MODES = {
    "light": {"theme": "light", "large": False},
    "dark": {"theme": "dark", "large": False},
    "light, large type": {"theme": "light", "large": True},
    "dark, large type": {"theme": "dark", "large": True},
}


def install(context: BrowserContext) -> None:
    """Make axe available as ``window.axe`` in every page ``context`` opens from now on."""
    context.add_init_script(path=str(AXE))


def show(page: Page, theme: str, large: bool) -> None:
    """Switch the page's display the way theme.js does, and wait for it to be drawn."""
    page.evaluate(
        """([theme, large]) => new Promise((done) => {
            const root = document.documentElement;
            root.dataset.theme = theme;
            if (large) root.dataset.size = "large"; else delete root.dataset.size;
            requestAnimationFrame(() => requestAnimationFrame(done));
        })""",
        [theme, large],
    )


def violations(page: Page) -> list[dict]:
    """Run every rule axe enables by default (WCAG A and AA, and its best practices)."""
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((n) => ({
                    target: n.target.join(" "), summary: n.failureSummary,
                })),
            }));
        }"""
    )


def audit(page: Page) -> dict[str, list[dict]]:
    """The page's violations in each display mode (modes with none are left out)."""
    found = {}
    for name, mode in MODES.items():
        show(page, **mode)
        if seen := violations(page):
            found[name] = seen
    return found


def counts(found: dict[str, list[dict]]) -> Counter:
    """How many elements fail each rule, over all modes: ``(mode, rule, impact) -> nodes``."""
    return Counter(
        {(mode, v["id"], v["impact"]): len(v["nodes"]) for mode, vs in found.items() for v in vs}
    )


def describe(found: dict[str, list[dict]], per_rule: int = 3) -> str:
    """A readable list of what failed, a few elements per rule."""
    lines = []
    for mode, vs in found.items():
        for v in vs:
            lines.append(f"[{mode}] {v['id']} ({v['impact']}, {len(v['nodes'])}): {v['help']}")
            for node in v["nodes"][:per_rule]:
                summary = " ".join(node["summary"].split())[:220]
                lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)
