"""Classroom mode: `run.py --classroom` serves the room, and the projector says where.

A "phone" here is a network namespace of the test's own, wired to this machine by a veth pair
with private addresses: the only traffic these tests send off loopback goes over that pair.
The site is told to use the pair's address (CELERY_LAB_LAN_INTERFACE); which address it finds
by itself is checked against iproute2's view without connecting to it.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import textwrap

import pytest
import redis
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from config import ROOT
from launcher import commands, lan
from tests.support.stack import poll
from tests.test_run import read_until

TOKEN = secrets.token_urlsafe(18)


def start_classroom(tmp_path, *args: str, **env: str) -> subprocess.Popen:
    """`run.py --classroom --no-worker [args]` with its own Redis; its output is readable."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "CELERY_LAB"))}
    base.update(CELERY_LAB_VAR_DIR=str(tmp_path / "var"), CELERY_LAB_INSTRUCTOR_TOKEN=TOKEN)
    return subprocess.Popen(
        [sys.executable, "run.py", "--classroom", "--no-worker", "--port", env.pop("PORT"), *args],
        cwd=ROOT,
        env={**base, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    process.stdout.close()


def ip(*args: str) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True).stdout


class Phone:
    """A device on the room's network: its own namespace, one veth end, a private address."""

    def __init__(self, namespace: str, host_interface: str, host_address: str):
        self.namespace = namespace
        self.host_interface = host_interface
        self.host_address = host_address

    def run(self, script: str, *args: str) -> dict:
        """Run a Python ``script`` inside the namespace; it prints one JSON object."""
        done = subprocess.run(
            ["ip", "netns", "exec", self.namespace, sys.executable, "-c", script, *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


# Runs on the phone: open the link, join the class with the form, try the instructor's page
# and Redis. Only the site's own address is ever contacted.
PHONE_SCRIPT = textwrap.dedent(
    """
    import http.cookiejar, json, socket, sys, urllib.error, urllib.parse, urllib.request
    link, redis_port = sys.argv[1], int(sys.argv[2])
    base = link.split("/join")[0]
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    def get(url, data=None):
        headers = {"Origin": base} if data else {}
        request = urllib.request.Request(url, data=data, headers=headers)
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
    out = {"join_page": get(link)}
    form = urllib.parse.urlencode(
        {"code": link.rsplit("/", 1)[1], "nickname": "Phone"}).encode()
    out["joined"] = get(base + "/join", form)
    out["instructor"] = get(base + "/classroom/")[0]
    try:
        socket.create_connection((base.split("//")[1].split(":")[0], redis_port), 3).close()
        out["redis"] = "connected"
    except OSError as exc:
        out["redis"] = type(exc).__name__
    print(json.dumps(out))
    """
)


@pytest.fixture
def phone():
    tag = secrets.token_hex(3)
    namespace, host_if, phone_if = f"clab-{tag}", f"clh{tag}", f"clp{tag}"
    # A /30 of 10.254.0.0/16 of our own; nothing else on the machine uses it.
    third, fourth = secrets.randbelow(256), 4 * secrets.randbelow(63)
    host_address, phone_address = f"10.254.{third}.{fourth + 1}", f"10.254.{third}.{fourth + 2}"
    ip("netns", "add", namespace)
    try:
        ip("link", "add", host_if, "type", "veth", "peer", "name", phone_if, "netns", namespace)
        ip("addr", "add", f"{host_address}/30", "dev", host_if)
        ip("link", "set", host_if, "up")
        ip("-n", namespace, "addr", "add", f"{phone_address}/30", "dev", phone_if)
        ip("-n", namespace, "link", "set", phone_if, "up")
        ip("-n", namespace, "link", "set", "lo", "up")
        yield Phone(namespace, host_if, host_address)
    finally:
        ip("netns", "del", namespace)  # takes the phone's end, and so the pair, with it
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)


def instructor_page(browser: Browser, local: str) -> Page:
    """A browser signed in as the instructor, over loopback, with the printed token."""
    page = browser.new_context().new_page()
    page.goto(f"{local}/classroom/instructor?token={TOKEN}")
    expect(page).to_have_url(f"{local}/classroom/")
    return page


def open_class(page: Page, local: str) -> str:
    reply = page.request.post(
        f"{local}/api/classroom/classes", data="{}", headers={"Content-Type": "application/json"}
    )
    assert reply.status == 201, reply.text()
    return reply.json()["code"]


def scan(page: Page, image) -> str:
    """Read the QR code the way a phone's camera does: from the pixels on the screen."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.screenshot())))
    assert len(found) == 1, f"{len(found)} codes seen"
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0].text


def project_join_screen(page: Page, local: str, code: str) -> str:
    """Open the projector of a new class; return the text its join screen's QR code holds."""
    page.goto(f"{local}/classroom/{code}")
    overlay = page.locator("#pj-overlay")  # a class nobody has joined yet opens on it
    expect(overlay).to_be_visible()
    return scan(page, overlay.locator("img"))


@pytest.mark.browser
def test_a_phone_on_the_room_network_scans_the_qr_code_and_joins(tmp_path, phone, browser):
    port = commands.free_port()
    process = start_classroom(
        tmp_path, PORT=str(port), CELERY_LAB_LAN_INTERFACE=phone.host_interface
    )
    try:
        output = read_until(process, "Learners join at")
        address = re.search(r"Learners join at (\S+)/join", output).group(1)
        assert address == f"http://{phone.host_address}:{port}"
        local = f"http://127.0.0.1:{port}"  # the instructor, on this machine
        assert f"open {local}/" in output

        page = instructor_page(browser, local)
        code = open_class(page, local)
        link = project_join_screen(page, local, code)
        assert link == f"{address}/join/{code}"
        expect(page.locator("#pj-overlay")).to_contain_text(f"Go to {address}/join")
        expect(page.locator(".pj-join")).to_contain_text(f"Join at {address}/join")

        redis_url = (tmp_path / "var" / "redis.url").read_text().strip()
        redis_port = redis_url.rsplit(":", 1)[1].split("/")[0]
        got = phone.run(PHONE_SCRIPT, link, redis_port)  # the phone opens what it scanned
        status, body = got["join_page"]
        assert status == 200 and "Join a class" in body and f'value="{code}"' in body
        status, body = got["joined"]
        assert status == 200 and f"You are in class {code}" in body, body[-500:]
        # The instructor's pages still need the token; Redis answers on loopback only.
        assert got["instructor"] == 403
        assert got["redis"] == "ConnectionRefusedError"
        with redis.Redis.from_url(redis_url) as client:
            assert client.config_get("bind") == {"bind": "127.0.0.1"}
        # The instructor sees the phone's learner arrive.
        members = poll(
            lambda: page.request.get(f"{local}/api/classroom/{code}").json()["members"],
            10,
            message="the phone's learner on the instructor's screen",
        )
        assert members == ["Phone"]
        page.context.close()
    finally:
        stop(process)


@pytest.mark.browser
def test_a_public_url_wins_for_a_site_behind_a_proxy(tmp_path, browser):
    port = commands.free_port()
    public = "https://lab.example.org:8443"
    process = start_classroom(tmp_path, PORT=str(port), CELERY_LAB_PUBLIC_URL=public + "/")
    try:
        output = read_until(process, "Learners join at")
        assert f"Learners join at {public}/join " in output
        local = f"http://127.0.0.1:{port}"
        page = instructor_page(browser, local)
        code = open_class(page, local)
        assert project_join_screen(page, local, code) == f"{public}/join/{code}"
        page.context.close()
    finally:
        stop(process)


def test_classroom_mode_on_one_address_tells_learners_that_address(tmp_path):
    port = commands.free_port()
    process = start_classroom(tmp_path, "--host", "127.0.0.1", PORT=str(port))
    try:
        output = read_until(process, "Learners join at")
        assert f"Learners join at http://127.0.0.1:{port}/join " in output
    finally:
        stop(process)


def test_the_address_found_is_the_default_routes_as_iproute2_sees_it():
    # No packet: both sides only read this machine's own tables.
    route = ip("-4", "-j", "route", "show", "default")
    default = json.loads(route)[0]["dev"] if json.loads(route) else None
    listed = {
        entry["ifname"]: [a["local"] for a in entry["addr_info"]]
        for entry in json.loads(ip("-4", "-j", "addr", "show", "up"))
        if entry["ifname"] != "lo"
    }
    found = lan.lan_address()
    assert found is not None and not found.startswith("127.")
    if default in listed:
        assert found in listed[default]
    else:
        assert any(found in addresses for addresses in listed.values())


BAD_SETTINGS = [
    ({"CELERY_LAB_PUBLIC_URL": "ftp://lab.example.org"}, "CELERY_LAB_PUBLIC_URL must be"),
    ({"CELERY_LAB_PUBLIC_URL": "lab.example.org"}, "CELERY_LAB_PUBLIC_URL must be"),
    ({"CELERY_LAB_PUBLIC_URL": "https://lab.example.org/lab"}, "nothing after it"),
    ({"CELERY_LAB_PUBLIC_URL": "http://lab.example.org:99999"}, "CELERY_LAB_PUBLIC_URL must"),
    ({"CELERY_LAB_PUBLIC_URL": "https://me:pw@lab.example.org"}, "CELERY_LAB_PUBLIC_URL must"),
    ({"CELERY_LAB_PUBLIC_URL": "https://lab.example.org?x=1"}, "CELERY_LAB_PUBLIC_URL must"),
    ({"CELERY_LAB_CLASSROOM": "maybe"}, "CELERY_LAB_CLASSROOM must be one of"),
    ({"CELERY_LAB_LAN_INTERFACE": "eth0; rm"}, "must name a network interface"),
    ({"CELERY_LAB_LAN_INTERFACE": "nosuch0"}, "CELERY_LAB_LAN_INTERFACE=nosuch0 has no"),
]


@pytest.mark.parametrize(("env", "says"), BAD_SETTINGS)
def test_a_bad_setting_is_refused_with_a_clear_message_and_starts_nothing(tmp_path, env, says):
    process = start_classroom(tmp_path, PORT=str(commands.free_port()), **env)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 1, output
    assert says in output
    assert "Traceback" not in output
    assert not (tmp_path / "var" / "redis.url").exists()
