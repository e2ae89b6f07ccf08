"""HTML pages: the course map, the lessons, and a page for addresses that lead nowhere."""

from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.exceptions import NotFound

from ..learners import current_learner
from .experiments import EXPERIMENTS
from .library import get_library

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    current_learner()
    return render_template("home.html", lessons=get_library().all())


@bp.get("/lessons/<slug>")
def lesson(slug: str):
    library = get_library()
    found = library.get(slug)
    if found is None:
        raise NotFound("There is no lesson at that address.")
    current_learner()
    previous, following = library.neighbours(found)
    return render_template(
        "lesson.html",
        lesson=found,
        previous=previous,
        following=following,
        experiments=EXPERIMENTS,
        lessons=library.all(),
    )
