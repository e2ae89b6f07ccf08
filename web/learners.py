"""Who is asking: a random learner id kept in Flask's signed session cookie."""

from __future__ import annotations

import re
import secrets

from flask import session

_LEARNER_ID = re.compile(r"^[0-9a-f]{32}$")


def current_learner() -> str:
    """Return this browser's learner id, creating one on first visit."""
    learner = session.get("learner")
    if not isinstance(learner, str) or not _LEARNER_ID.match(learner):
        learner = secrets.token_hex(16)
        session["learner"] = learner
        session.permanent = True
    return learner
