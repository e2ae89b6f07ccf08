"""A learner builds canvases on chapter 8 in Chromium and watches the graph and the timeline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.learner_page import commit, commit_through, experiment, open_lesson

pytestmark = pytest.mark.browser

SLUG = "workflows"

PREDICTIONS = [
    ("lesson8-chain-argument", "a"),
    ("lesson8-chain-failure", "b"),
    ("lesson8-chord-failure", "c"),
]


def _build(page: Page, name: str, steps: int, durations: str, fail: str = "none"):
    panel = experiment(page, name)
    panel.locator("input[name=steps]").fill(str(steps))
    panel.locator("select[name=durations]").select_option(durations)
    panel.locator("select[name=fail]").select_option(fail)
    panel.get_by_role("button").click()
    return panel.locator("figure.canvas-view")


def _bar_box(figure, key: str) -> dict:
    bar = figure.locator(f'.canvas-timeline rect.run[data-task="{key}"]')
    return {attr: float(bar.get_attribute(attr)) for attr in ("x", "width")}


def test_a_chain_lights_each_node_in_turn_and_passes_results_along(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    expect(page.locator(".canvas-view")).to_have_count(0)
    commit_through(page, PREDICTIONS, "lesson8-chain-argument")
    figure = _build(page, "lesson8.chain", 3, "1-1-1-1")
    graph = figure.locator("svg.canvas-graph")
    expect(graph.locator(".node")).to_have_count(3)
    expect(graph.locator(".edge")).to_have_count(2)
    # While the first step runs, the last one has not even been sent.
    expect(graph.locator('[data-node="s1"]')).to_have_attribute("data-state", "started")
    expect(graph.locator('[data-node="s3"]')).to_have_attribute("data-state", "waiting")
    for key, result in (("s1", "1"), ("s2", "3"), ("s3", "6")):
        node = graph.locator(f'[data-node="{key}"]')
        expect(node).to_have_attribute("data-state", "succeeded", timeout=15000)
        expect(node.locator(".node-state")).to_have_text(f"succeeded → {result}")
    expect(graph.locator(".edge.lit")).to_have_count(2)
    expect(figure.locator(".canvas-status")).to_have_text("All done: the chain's result is 6.")
    # The timeline: a staircase, each bar starting as the one before ends. (The next step is
    # published a few ms before the previous one's task-succeeded event, so allow a sliver.)
    bars = [_bar_box(figure, k) for k in ("s1", "s2", "s3")]
    for before, after in zip(bars, bars[1:], strict=False):
        assert after["x"] >= before["x"] + before["width"] * 0.9
    expect(figure.locator(".canvas-timeline .wait")).to_have_count(3)


def test_a_group_runs_side_by_side_in_lanes_of_its_own(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson8-chain-failure")
    figure = _build(page, "lesson8.group", 3, "2-2-2-2")
    expect(figure.locator(".canvas-status")).to_have_text(
        re.compile(r"All done: the group's results are \[1, 2, 3\]"), timeout=15000
    )
    lanes = figure.locator(".canvas-timeline .lane")
    expect(lanes).to_have_count(3)
    for i in range(3):
        expect(lanes.nth(i)).to_have_attribute("data-thread", re.compile(r"^pool-\d+$"))
        expect(lanes.nth(i).locator("rect.run")).to_have_count(1)
    bars = [_bar_box(figure, k) for k in ("s1", "s2", "s3")]
    # Side by side: every bar starts before any bar ends.
    assert max(b["x"] for b in bars) < min(b["x"] + b["width"] for b in bars)


def test_a_failing_chain_step_leaves_the_rest_never_run(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson8-chain-failure")
    figure = _build(page, "lesson8.chain", 3, "1-1-1-1", fail="step 2")
    graph = figure.locator("svg.canvas-graph")
    expect(graph.locator('[data-node="s2"]')).to_have_attribute(
        "data-state", "failed", timeout=15000
    )
    third = graph.locator('[data-node="s3"]')
    expect(third).to_have_attribute("data-state", "never-ran", timeout=10000)
    expect(third.locator("title")).to_contain_text("step 2 failed on purpose")
    expect(figure.locator(".canvas-status")).to_contain_text("Finished with a failure")
    expect(figure.locator('.canvas-timeline rect.run[data-task="s3"]')).to_have_count(0)


def test_a_chord_body_waits_for_its_header_and_fails_with_it(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson8-chain-failure")
    expect(experiment(page, "lesson8.chord")).to_be_hidden()  # behind its own prediction
    commit(page, "lesson8-chord-failure", "c")
    figure = _build(page, "lesson8.chord", 2, "1-2-3-4")
    graph = figure.locator("svg.canvas-graph")
    body = graph.locator('[data-node="body"]')
    expect(graph.locator('[data-node="s1"]')).to_have_attribute(
        "data-state", "succeeded", timeout=15000
    )
    assert body.get_attribute("data-state") in ("waiting", "sent", "received", "started")
    expect(body).to_have_attribute("data-state", "succeeded", timeout=15000)
    expect(body.locator(".node-state")).to_have_text("succeeded → 3")

    failing = _build(page, "lesson8.chord", 2, "1-1-1-1", fail="step 1").last
    body = failing.locator('svg.canvas-graph [data-node="body"]')
    expect(body).to_have_attribute("data-state", "never-ran", timeout=15000)
    expect(body.locator("title")).to_contain_text("ChordError")


def test_bad_input_shows_the_servers_message_and_draws_nothing(page: Page, base_url: str):
    open_lesson(page, base_url, SLUG)
    commit_through(page, PREDICTIONS, "lesson8-chain-failure")
    panel = experiment(page, "lesson8.group")
    panel.locator("input[name=steps]").fill("2")
    panel.locator("select[name=fail]").select_option("step 4")
    panel.get_by_role("button").click()
    expect(panel.get_by_role("alert")).to_contain_text("There is no step 4")
    expect(panel.locator("figure.canvas-view")).to_have_count(0)
