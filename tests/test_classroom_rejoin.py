"""A learner who loses their cookie rejoins the class as themselves; nobody else can.

Joining hands the browser a rejoin key (kept in its storage by site/static/js/join.js, and
shown once on the page). The nickname stays its holder's: a stranger without the key is
refused, and the holder who comes back with it carries on as the same learner, with their
answers and tasks.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.classroom_people import join
from web import keys

KEY = re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$")


def member_ids(stack, code: str) -> set[str]:
    return set(stack.redis().hgetall(keys.classroom(code, "members")))


def test_the_key_brings_the_same_learner_back_and_a_stranger_is_refused(stack, code, people):
    ana = people()
    first = join(ana, code, "Ana")
    assert KEY.match(first["rejoin"]), first
    (ana_id,) = member_ids(stack, code)
    # Ana answers a question in class, so there is something of hers to get back.
    stack.redis().hset(keys.classroom(code, "answers:q1"), ana_id, "b")

    stranger = people()
    for guess in (None, "", "AAAA-AAAA-AAAA", first["rejoin"][:-1], ["x"], 12):
        status, reply = stranger.post(
            "/api/classroom/join", {"code": code, "nickname": "ana", "rejoin": guess}
        )
        assert (status, reply["error"]) == (409, "nickname_taken"), (guess, reply)
        assert "rejoin key" in reply["message"]
    assert member_ids(stack, code) == {ana_id}

    # Ana's cookie is gone (a new browser): with her key, typed any case, she is Ana again.
    back = people()
    status, me = back.post(
        "/api/classroom/join",
        {"code": code, "nickname": "ANA", "rejoin": first["rejoin"].lower().replace("-", " ")},
    )
    assert status == 200, me
    assert (me["in_class"], me["nickname"]) == (True, "ANA")
    assert member_ids(stack, code) == {ana_id}  # the same learner, not a second member
    assert stack.redis().hget(keys.classroom(code, "answers:q1"), ana_id) == "b"
    # Her new browser now carries her learner id: a task it sends is routed to Ana.
    sent = back.press("lesson1.delay", {"x": 1, "y": 2})
    assert sent["type"] == "sent"
    route = stack.redis().get(keys.route(sent["task_id"]))
    assert ana_id in route and code in route

    # Each join hands out a new key; the old one no longer works, the new one does.
    assert KEY.match(me["rejoin"]) and me["rejoin"] != first["rejoin"]
    thief = people()
    status, _ = thief.post(
        "/api/classroom/join", {"code": code, "nickname": "Ana", "rejoin": first["rejoin"]}
    )
    assert status == 409
    status, again = thief.post(
        "/api/classroom/join", {"code": code, "nickname": "Ana", "rejoin": me["rejoin"]}
    )
    assert status == 200 and member_ids(stack, code) == {ana_id}


def test_the_key_works_only_in_its_class_for_its_nickname_and_leaving_ends_it(
    stack, instructor, code, people
):
    ana, bo = people(), people()
    key = join(ana, code, "Ana")["rejoin"]
    join(bo, code, "Bo")
    other_class = instructor.open_class()
    join(people(), other_class, "Ana")
    stranger = people()
    for target, nickname in ((code, "Bo"), (other_class, "Ana")):
        status, reply = stranger.post(
            "/api/classroom/join", {"code": target, "nickname": nickname, "rejoin": key}
        )
        assert status == 409, reply
    # Leaving gives the nickname up: then anyone may take it, and the old key is void.
    assert ana.post("/api/classroom/leave", {})[0] == 200
    assert not stack.redis().hexists(keys.classroom(code, "rejoin"), "ana")
    status, me = stranger.post("/api/classroom/join", {"code": code, "nickname": "Ana"})
    assert status == 200 and me["nickname"] == "Ana"


def test_a_stranger_who_was_in_the_class_under_another_name_leaves_no_ghost(stack, code, people):
    ana = people()
    key = join(ana, code, "Ana")["rejoin"]
    (ana_id,) = member_ids(stack, code)
    # Ana's cookie is lost; meanwhile she joined as "Ana2", then finds her key.
    again = people()
    join(again, code, "Ana2")
    status, me = again.post("/api/classroom/join", {"code": code, "nickname": "Ana", "rejoin": key})
    assert status == 200 and me["nickname"] == "Ana"
    assert member_ids(stack, code) == {ana_id}
    assert not stack.redis().hexists(keys.classroom(code, "nicknames"), "ana2")


@pytest.mark.browser
def test_a_browser_that_lost_its_cookie_rejoins_with_the_same_nickname(
    page: Page, base_url: str, stack, code
):
    page.goto(f"{base_url}/join/{code}")
    page.locator("input[name=nickname]").fill("Zoe")
    page.get_by_role("button", name="Join").click()
    expect(page.locator("h1")).to_have_text(f"You are in class {code}")
    key = page.locator(".class-rejoin strong").inner_text()
    assert KEY.match(key)
    (zoe_id,) = member_ids(stack, code)

    # Off the page first: a request of its still in flight would bring the old cookie back.
    page.goto("about:blank")
    page.context.clear_cookies()  # the cookie is lost; the browser's storage is not
    page.goto(f"{base_url}/join/{code}")
    expect(page.locator("h1")).to_have_text("Join a class")
    # The page remembers who this browser was in the class, and says so by filling it in.
    expect(page.locator("input[name=nickname]")).to_have_value("Zoe")
    page.get_by_role("button", name="Join").click()
    expect(page.locator("h1")).to_have_text(f"You are in class {code}")
    expect(page.locator(".class-join strong").first).to_have_text("Zoe")
    assert member_ids(stack, code) == {zoe_id}

    # A browser without the key (another person's phone) cannot take the nickname.
    other = page.context.browser.new_context()
    try:
        phone = other.new_page()
        phone.goto(f"{base_url}/join/{code}")
        phone.locator("input[name=nickname]").fill("zoe")
        phone.get_by_role("button", name="Join").click()
        expect(phone.get_by_role("alert")).to_contain_text("already 'zoe'")
    finally:
        other.close()
    assert member_ids(stack, code) == {zoe_id}
