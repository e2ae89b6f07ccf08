"""Every lesson renders, links nowhere broken, embeds real experiments and shows real code.

The checks run over whatever ``lessons/NN-slug.md`` files exist, so a new lesson is covered
the moment it lands. The loader's own rules are checked against fixture lessons in tmp_path.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

from config import ROOT
from web.lessons import library as lessons
from web.lessons.experiments import EXPERIMENTS

LESSON_FILES = sorted((ROOT / "lessons").glob("[0-9][0-9]-*.md"))
BY_NAME = [pytest.param(path, id=path.stem) for path in LESSON_FILES]
SOURCE = re.compile(r"^\[\[source (\S+)\]\]\s*$", re.M)
SHOWN_SOURCE = re.compile(
    r'<p class="source-path">([^<]*)</p>\s*<div class="highlight"[^>]*><pre>(.*?)</pre></div>', re.S
)


class Page(HTMLParser):
    """What a check needs from a page: its links, its assets and the ids it defines."""

    def __init__(self, text: str):
        super().__init__()
        self.links: list[str] = []
        self.assets: list[str] = []
        self.ids: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag in ("script", "img", "source", "iframe") and attrs.get("src"):
            self.assets.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.assets.append(attrs["href"])


def get_page(client, url: str) -> tuple[int, str]:
    response = client.get(url)
    try:
        return response.status_code, response.get_data(as_text=True)
    finally:
        response.close()


def is_internal(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


# ---- every lesson file ------------------------------------------------------------------


def test_there_are_lessons_to_check():
    assert LESSON_FILES, "no lessons/NN-slug.md files found"


@pytest.mark.parametrize("path", BY_NAME)
def test_a_lesson_has_a_title_a_summary_an_experiment_and_a_prediction(path: Path):
    lesson = lessons.parse(path)
    assert lesson.title.strip(), "front matter needs a title"
    assert lesson.summary.strip(), "front matter needs a one-line summary for the course map"
    assert "\n" not in lesson.summary.strip(), "the summary is one line"
    assert lesson.experiments, "embed at least one [[experiment lessonN.name]]"
    assert lesson.predictions, "place at least one [[predict id]]"
    assert lesson.toc, "h2 sections form the table of contents"


@pytest.mark.parametrize("path", BY_NAME)
def test_every_experiment_a_lesson_names_exists(path: Path):
    named = lessons.parse(path).experiments
    missing = [name for name in named if name not in EXPERIMENTS]
    assert not missing, f"{path.name} embeds experiments that do not exist: {missing}"


def test_lesson_numbers_and_slugs_are_unique():
    parsed = [lessons.parse(path) for path in LESSON_FILES]
    numbers = [lesson.number for lesson in parsed]
    slugs = [lesson.slug for lesson in parsed]
    assert len(set(numbers)) == len(numbers), numbers
    assert len(set(slugs)) == len(slugs), slugs


@pytest.mark.parametrize("path", BY_NAME)
def test_a_lesson_page_renders_with_its_title_experiments_and_questions(client, path: Path):
    lesson = lessons.parse(path)
    status, text = get_page(client, f"/lessons/{lesson.slug}")
    assert status == 200
    assert f"<h1>{html.escape(lesson.title, quote=False)}</h1>" in text
    for name in lesson.experiments:
        assert f'data-experiment="{name}"' in text
    for qid in lesson.predictions:
        assert f'data-question="{qid}"' in text
    assert 'class="prediction missing"' not in text, "a [[predict]] names an unwritten question"
    # Every h2 of the lesson is reachable from the table of contents, except those behind a
    # prediction this (new) learner has not answered: their words could give it away.
    page = Page(text)
    for entry in lesson.toc:
        assert entry["id"] in page.ids
        listed = f'href="#{entry["id"]}"' in text
        assert listed == (not entry["locks"]), (entry["id"], entry["locks"])


@pytest.mark.parametrize("path", BY_NAME)
def test_every_source_block_shows_the_real_file(client, path: Path):
    lesson = lessons.parse(path)
    specs = SOURCE.findall(path.read_text())
    _, text = get_page(client, f"/lessons/{lesson.slug}")
    shown = SHOWN_SOURCE.findall(text)
    assert len(shown) == len(specs), "each [[source]] is drawn as a highlighted block"
    for spec, (shown_path, shown_html) in zip(specs, shown, strict=True):
        real_path, real_code = lessons.source_of(spec)
        code = html.unescape(re.sub(r"<[^>]+>", "", shown_html))
        assert html.unescape(shown_path) == real_path
        assert code.rstrip("\n") == real_code, f"[[source {spec}]] differs from the file"


# ---- the site around the lessons --------------------------------------------------------


def test_the_home_page_maps_every_lesson_in_order(client):
    parsed = [lessons.parse(path) for path in LESSON_FILES]
    status, text = get_page(client, "/")
    assert status == 200
    steps = re.findall(r'<li class="course-step" data-lesson="([^"]+)">', text)
    assert steps == [lesson.slug for lesson in parsed]
    for lesson in parsed:
        assert html.escape(lesson.title, quote=False) in text
        assert html.escape(lesson.summary, quote=False) in text


def test_every_internal_link_and_asset_on_every_page_resolves(client):
    pages = ["/"] + [f"/lessons/{lessons.parse(path).slug}" for path in LESSON_FILES]
    seen_pages: dict[str, Page] = {}
    checked: set[str] = set()
    broken = []
    queue = list(pages)
    while queue:
        url = queue.pop(0)
        if url in seen_pages:
            continue
        status, text = get_page(client, url)
        assert status == 200, f"{url} answered {status}"
        page = seen_pages[url] = Page(text)
        for asset in page.assets:
            if asset.startswith("data:"):  # inline, e.g. the empty favicon
                continue
            assert is_internal(asset), f"{url} loads {asset} from another site"
            if asset not in checked:
                checked.add(asset)
                response = client.get(asset)
                response.close()
                if response.status_code != 200:
                    broken.append((url, asset, response.status_code))
        for link in page.links:
            if not is_internal(link):
                continue
            target, fragment = urldefrag(link)
            if not target:  # "#section": an id on this very page
                if fragment and fragment not in page.ids:
                    broken.append((url, link, "no such id"))
                continue
            if target.startswith("/") and target not in seen_pages and target not in queue:
                # Follow the site's own pages (a lesson links to the quiz, the quiz to progress).
                if len(seen_pages) + len(queue) < 60:
                    queue.append(target)
            if fragment:
                checked_fragment = (target, fragment)
                if checked_fragment not in checked:
                    checked.add(checked_fragment)
                    _, target_text = get_page(client, target)
                    if fragment not in Page(target_text).ids:
                        broken.append((url, link, "no such id"))
    assert set(pages) <= set(seen_pages)
    assert not broken, broken


def test_an_unknown_address_is_a_404_page_that_leads_back(client):
    status, text = get_page(client, "/lessons/no-such-lesson")
    assert status == 404
    assert "There is no lesson at that address." in text
    assert 'href="/#course"' in text
    response = client.get("/api/no-such-endpoint")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    response.close()


# ---- the loader, on fixture lessons ----------------------------------------------------

GOOD = """---
title: A fixture lesson
summary: One line for the map.
---
Intro.

## First part

[[source sandbox_tasks/basics.py:add]]

[[predict fixture-question]]

[[experiment lesson5.delay]]

## Second part

The end.
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def test_a_fixture_lesson_parses_into_parts_and_a_table_of_contents(tmp_path):
    lesson = lessons.parse(write(tmp_path, "03-fixture.md", GOOD))
    assert (lesson.number, lesson.slug, lesson.title) == (3, "fixture", "A fixture lesson")
    assert lesson.summary == "One line for the map."
    assert [p.kind for p in lesson.parts] == ["html", "predict", "html", "experiment", "html"]
    assert lesson.experiments == ["lesson5.delay"] and lesson.predictions == ["fixture-question"]
    assert [t["name"] for t in lesson.toc] == ["First part", "Second part"]
    assert "def add(x: int, y: int)" in html.unescape(re.sub(r"<[^>]+>", "", lesson.parts[0].value))


BAD_LESSONS = [
    pytest.param("5-short.md", GOOD, "named NN-slug.md", id="bad-file-name"),
    pytest.param("05-Upper.md", GOOD, "named NN-slug.md", id="upper-case-slug"),
    pytest.param(
        "05-open.md",
        "---\ntitle: x\nNo closing line.\n",
        "no closing ---",
        id="unclosed-front-matter",
    ),
    pytest.param("05-untitled.md", "---\nsummary: s\n---\nText.\n", "needs a title", id="no-title"),
    pytest.param(
        "05-bare.md", "Just text, no front matter.\n", "needs a title", id="no-front-matter"
    ),
    pytest.param(
        "05-nofile.md",
        GOOD.replace("basics.py:add", "nowhere.py:add"),
        "no such project file",
        id="missing-source-file",
    ),
    pytest.param(
        "05-nofunc.md",
        GOOD.replace("basics.py:add", "basics.py:subtract"),
        "basics.py has no",
        id="missing-source-function",
    ),
    pytest.param(
        "05-escape.md",
        GOOD.replace("sandbox_tasks/basics.py:add", "../../etc/passwd"),
        "no such project file",
        id="source-outside-the-project",
    ),
]


@pytest.mark.parametrize(("name", "text", "says"), BAD_LESSONS)
def test_a_broken_lesson_is_a_lesson_error_that_says_why(tmp_path, name, text, says):
    with pytest.raises(lessons.LessonError, match=re.escape(says)):
        lessons.parse(write(tmp_path, name, text))


# Known gaps in web/lessons/library.py (reported to the lead): front matter that is not YAML lets
# yaml.YAMLError escape, and a YAML list passes the title check (`"title" in [...]`) and then
# fails with TypeError. strict=True: these turn red once parse() says why, so the mark goes.
NOT_A_MAPPING = [
    pytest.param("---\ntitle: [unclosed\n---\nText.\n", id="not-yaml"),
    pytest.param("---\n- title\n- summary\n---\nText.\n", id="a-list"),
]


@pytest.mark.parametrize("text", NOT_A_MAPPING)
def test_front_matter_that_is_not_a_yaml_mapping_is_a_lesson_error(tmp_path, text):
    with pytest.raises(lessons.LessonError, match="front matter"):
        lessons.parse(write(tmp_path, "05-front.md", text))


def test_source_of_returns_a_function_with_its_decorator_or_a_whole_file():
    path, code = lessons.source_of("sandbox_tasks/timing.py:slow_task")
    assert path == "sandbox_tasks/timing.py"
    assert code.startswith("@shared_task(bind=True)\ndef slow_task(")
    assert code.splitlines()[-1].strip().startswith("return ")
    _, whole = lessons.source_of("sandbox_tasks/timing.py")
    assert whole == (ROOT / "sandbox_tasks/timing.py").read_text().rstrip("\n")


def test_a_library_lists_its_lessons_in_order_with_neighbours(tmp_path):
    for name, title in (("02-b.md", "B"), ("01-a.md", "A"), ("10-c.md", "C")):
        write(tmp_path, name, GOOD.replace("A fixture lesson", title))
    write(tmp_path, "notes.md", "not a lesson")
    library = lessons.Library(tmp_path)
    assert [lesson.title for lesson in library.all()] == ["A", "B", "C"]
    middle = library.get("b")
    assert [n.title if n else None for n in library.neighbours(middle)] == ["A", "C"]
    assert library.neighbours(library.get("a"))[0] is None
    assert library.get("nope") is None


def test_the_site_serves_whatever_lessons_directory_it_is_given(stack, tmp_path):
    from web import create_app

    write(tmp_path, "01-only.md", GOOD.replace("A fixture lesson", "The only lesson"))
    app = create_app({"TESTING": True, "LESSONS_DIR": str(tmp_path)})
    try:
        client = app.test_client()
        status, text = get_page(client, "/")
        assert status == 200 and "The only lesson" in text
        assert re.findall(r'class="course-step" data-lesson="([^"]+)"', text) == ["only"]
        status, text = get_page(client, "/lessons/only")
        assert status == 200 and "<h1>The only lesson</h1>" in text
        assert 'rel="next"' not in text and 'rel="prev"' not in text
    finally:
        app.extensions["hub"].stop()
