"""Each experiment's one transport (``Experiment.transport``) and the refusal that names it."""

from __future__ import annotations

import pytest

from web.lessons.experiments import EXPERIMENTS
from web.live.runner import HTTP, WEBSOCKET, wrong_transport_message


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_a_direct_call_runs_over_http_and_everything_else_over_the_socket(name):
    experiment = EXPERIMENTS[name]
    assert experiment.transport == (HTTP if experiment.mode == "direct" else WEBSOCKET)


def test_lesson_5_has_both_kinds():
    assert EXPERIMENTS["lesson5.direct"].transport == HTTP
    assert EXPERIMENTS["lesson5.delay"].transport == WEBSOCKET


def test_the_refusal_says_how_to_send_it_instead():
    over_socket = wrong_transport_message("lesson5.delay", WEBSOCKET)
    assert over_socket == (
        "lesson5.delay runs over the page's websocket: send "
        '{"action": "run", "experiment": "lesson5.delay", "params": {...}} on /ws.'
    )
    over_http = wrong_transport_message("lesson5.direct", HTTP)
    assert "POST" in over_http and "/api/experiments/lesson5.direct" in over_http
