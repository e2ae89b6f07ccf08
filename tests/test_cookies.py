"""Cookies: names of each site's own, the instructor's short-lived and HttpOnly, and sign-out.

Browsers (and Python's cookie jar) do not scope cookies by port: two sites on 127.0.0.1 that
both called their cookie "session" would keep replacing each other's.
"""

from __future__ import annotations

import time
from http.cookies import SimpleCookie

import pytest
from itsdangerous import TimestampSigner

import config
from tests.support.learners import Learner
from web.classroom import instructor as instructor_auth


@pytest.fixture
def app(stack):
    from web import create_app

    application = create_app({"TESTING": True, "INSTRUCTOR_TOKEN": stack.instructor_token})
    yield application
    application.extensions["hub"].stop()


def set_cookies(response) -> dict[str, SimpleCookie]:
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie(header)
        for name in cookie:
            found[name] = cookie[name]
    return found


def test_each_site_names_its_cookies_after_its_own_secret(monkeypatch):
    monkeypatch.delenv("CELERY_LAB_COOKIE_NAME", raising=False)
    one, two = config.cookie_names("secret one"), config.cookie_names("secret two")
    assert one != two and one == config.cookie_names("secret one")
    assert one[1] != one[0] and all(n.startswith("celerylab_") for n in one + two)
    assert "session" not in one + two


def test_a_setting_names_the_cookies(monkeypatch):
    monkeypatch.setenv("CELERY_LAB_COOKIE_NAME", "room12")
    assert config.cookie_names("anything") == ("celerylab_room12", "celerylab_room12_instructor")


@pytest.mark.parametrize("bad", ["two words", "semi;colon", "x" * 41, "é"])
def test_a_cookie_name_setting_that_a_cookie_cannot_carry_is_refused(monkeypatch, bad):
    monkeypatch.setenv("CELERY_LAB_COOKIE_NAME", bad)
    with pytest.raises(SystemExit, match="CELERY_LAB_COOKIE_NAME"):
        config.cookie_names("anything")


def test_the_learners_cookie_has_the_sites_name_and_is_http_only(app, client):
    cookie = set_cookies(client.get("/"))[app.config["SESSION_COOKIE_NAME"]]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_the_link_sets_a_short_http_only_strict_instructor_cookie_and_drops_the_token(app, client):
    token = app.config["INSTRUCTOR_TOKEN"]
    response = client.get(f"/classroom/instructor?token={token}")
    assert response.status_code == 303 and response.location == "/classroom/"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = set_cookies(response)[app.config["INSTRUCTOR_COOKIE_NAME"]]
    assert int(cookie["max-age"]) == 12 * 3600
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert token not in cookie.value
    assert client.get("/classroom/").status_code == 200


def test_the_sign_in_form_posts_the_token_so_no_address_ever_holds_it(app, client):
    form = client.get("/classroom/instructor")
    assert form.status_code == 200 and b'type="password"' in form.data
    assert client.post("/classroom/instructor", data={"token": "wrong"}).status_code == 403
    assert client.get("/classroom/").status_code == 403
    response = client.post("/classroom/instructor", data={"token": app.config["INSTRUCTOR_TOKEN"]})
    assert response.status_code == 303
    assert client.get("/classroom/").status_code == 200


def test_signing_out_ends_instructor_access(app, client):
    client.get(f"/classroom/instructor?token={app.config['INSTRUCTOR_TOKEN']}")
    assert client.get("/classroom/").status_code == 200
    response = client.post("/classroom/sign-out")
    assert response.status_code == 303
    gone = set_cookies(response)[app.config["INSTRUCTOR_COOKIE_NAME"]]
    assert gone.value == "" and gone["max-age"] == "0"
    assert client.get("/classroom/").status_code == 403
    assert client.post("/api/classroom/classes", json={}).status_code == 403


def test_another_site_cannot_sign_the_instructor_out(app, client):
    client.get(f"/classroom/instructor?token={app.config['INSTRUCTOR_TOKEN']}")
    response = client.post("/classroom/sign-out", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert client.get("/classroom/").status_code == 200


class _Backdated(TimestampSigner):
    """A signer whose clock reads ``hours`` ago: a cookie the browser should have dropped."""

    hours = 0.0

    def get_timestamp(self) -> int:
        return int(time.time() - self.hours * 3600)


@pytest.mark.parametrize(("hours", "status"), [(11.9, 200), (12.1, 403), (24 * 365, 403)])
def test_the_instructor_cookie_expires_after_twelve_hours_whatever_the_browser_keeps(
    app, client, hours, status
):
    with app.test_request_context():
        signer = _Backdated(app.config["SECRET_KEY"], salt="celery-lab instructor")
        signer.hours = hours
        value = signer.sign(instructor_auth._fingerprint(app.config["INSTRUCTOR_TOKEN"]))
    client.set_cookie(app.config["INSTRUCTOR_COOKIE_NAME"], value.decode())
    assert client.get("/classroom/").status_code == status


@pytest.mark.parametrize("value", ["", "garbage", "a.b.c", "x" * 4000])
def test_a_forged_instructor_cookie_is_refused(app, client, value):
    client.set_cookie(app.config["INSTRUCTOR_COOKIE_NAME"], value)
    assert client.get("/classroom/").status_code == 403


def test_two_sites_on_one_host_keep_their_own_learner(stack, own_stack):
    other = own_stack()  # its own Redis and var/, so its own cookie-signing key
    other.web, other.base_url = other.start_web(threads=8)
    visitor = Learner(stack.base_url)
    try:
        assert visitor.post("/api/progress/read", {"lesson": "what-is-a-task"})[0] == 200
        # The same browser (one cookie jar, which like a browser ignores ports) visits the other.
        visitor.base_url = other.base_url
        assert visitor.get_json("/api/progress")[0] == 200
        assert visitor.post("/api/progress/read", {"lesson": "celery-with-flask"})[0] == 200
        visitor.base_url = stack.base_url
        status, mine = visitor.get_json("/api/progress")
        read = {row["slug"] for row in mine["lessons"] if row["read"]}
        assert read == {"what-is-a-task"}, "the first site forgot this learner"
        assert len({c.name for c in visitor.jar}) == 2  # one learner cookie for each site
    finally:
        visitor.close()
