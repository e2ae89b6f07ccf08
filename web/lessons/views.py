"""HTML pages: the course map, the lessons, and a page for addresses that lead nowhere."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
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


@bp.app_errorhandler(NotFound)
def not_found(exc: NotFound):
    # Programs asking the API get JSON; people get a page with the way back to the course.
    if request.path.startswith("/api/"):
        return jsonify(error="not_found", message=exc.description), 404
    return render_template(
        "not_found.html", message=exc.description, lessons=get_library().all()
    ), 404
