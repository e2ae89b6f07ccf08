"""Lesson pages: how long the server takes to answer one, and how many bytes a page loads."""

from __future__ import annotations

import http.client
import re
import time
from urllib.parse import urlsplit

from tests.support import chromium

from .stats import summary


def lesson_slugs(base_url: str) -> list[str]:
    """The lessons the course map links to, in order."""
    connection = _connection(base_url)
    try:
        connection.request("GET", "/")
        html = connection.getresponse().read().decode()
    finally:
        connection.close()
    return list(dict.fromkeys(re.findall(r'href="/lessons/([^"/?#]+)"', html)))


def _connection(base_url: str) -> http.client.HTTPConnection:
    parts = urlsplit(base_url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def server_time(base_url: str, slugs: list[str], requests: int, warmup: int = 20) -> dict:
    """Time GET /lessons/<slug> over one kept-alive connection with a learner's cookie.

    Measured at the client on loopback, so it is the server's time plus well under a
    millisecond of network: an upper bound on server time.
    """
    connection = _connection(base_url)
    cookie = ""
    samples, per_lesson = [], {}
    try:
        for slug in slugs:
            mine = []
            for i in range(warmup + requests):
                started = time.perf_counter()
                connection.request("GET", f"/lessons/{slug}", headers={"Cookie": cookie})
                response = connection.getresponse()
                response.read()
                took = time.perf_counter() - started
                if response.status != 200:
                    raise RuntimeError(f"/lessons/{slug} answered {response.status}")
                cookie = cookie or (response.getheader("Set-Cookie") or "").split(";")[0]
                if i >= warmup:
                    mine.append(took)
            samples += mine
            per_lesson[slug] = summary(mine)
    finally:
        connection.close()
    return {**summary(samples), "lessons": per_lesson}


def _recorder(into: list):
    # Playwright tags its handlers with an attribute, so a bound list.append will not do.
    def record(response) -> None:
        into.append(response)

    return record


def page_weight(base_url: str, slugs: list[str]) -> dict:
    """Load each lesson in Chromium and count every byte of every response it fetched."""
    from playwright.sync_api import sync_playwright

    host = urlsplit(base_url).netloc
    per_lesson = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium.LAUNCH)
        try:
            for slug in slugs:
                context = browser.new_context()
                page = context.new_page()
                responses = []
                page.on("response", _recorder(responses))
                page.goto(f"{base_url}/lessons/{slug}", wait_until="networkidle")
                sizes = {}
                for response in responses:
                    if response.request.resource_type == "websocket":
                        continue
                    sizes[response.url] = len(response.body()) if response.ok else 0
                foreign = sorted(u for u in sizes if urlsplit(u).netloc != host)
                per_lesson[slug] = {
                    "kb": round(sum(sizes.values()) / 1024, 1),
                    "requests": len(sizes),
                    "foreign": foreign,
                    "files": {urlsplit(u).path: round(n / 1024, 1) for u, n in sizes.items()},
                }
                context.close()
        finally:
            browser.close()
    heaviest = max(per_lesson, key=lambda s: per_lesson[s]["kb"]) if per_lesson else None
    return {
        "max_kb": per_lesson[heaviest]["kb"] if heaviest else None,
        "heaviest": heaviest,
        "all_local": all(not v["foreign"] for v in per_lesson.values()),
        "lessons": per_lesson,
    }
