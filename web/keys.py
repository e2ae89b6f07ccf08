"""Every Redis key the site writes, in one place, all under the ``celerylab:`` namespace.

| key                               | type   | holds                                      | expiry |
|-----------------------------------|--------|--------------------------------------------|--------|
| celerylab:route:<task id>         | string | JSON {learner, classroom, experiment, ...} | 6 h    |
| celerylab:learner:<id>:tasks      | list   | the learner's recent task ids, newest first| 6 h    |
| celerylab:ratelimit:<id>:<second> | string | requests counted in that second            | 5 s    |
| celerylab:learner:<id>:answers    | hash   | question id -> JSON {learner, question,    | 400 d  |
|                                   |        | answer, correct, skipped, time}; the first |        |
|                                   |        | answer is kept (HSETNX), see               |        |
|                                   |        | web/quiz/grading.py                        |        |
| celerylab:learner:<id>:read       | hash   | lesson slug -> Unix time the learner       | 400 d  |
|                                   |        | reached the lesson's end                   |        |

The two progress keys last 400 days from the learner's latest answer or read (longer than the
365-day cookie that names the learner) and go at once when the learner resets their progress.

The playground's exercises and editor (web/your_turn/exercises.py, web/your_turn/workspace.py),
kept like the two progress keys above (400 days from the latest write; reset forgets the
exercises, not edits):

| key                                 | type   | holds                                   | expiry |
|-------------------------------------|--------|-----------------------------------------|--------|
| celerylab:learner:<id>:exercises    | hash   | <exercise>:attempts -> runs judged,     | 400 d  |
|                                     |        | <exercise>:solved / :hint / :solution   |        |
|                                     |        | -> Unix time first solved / shown, and  |        |
|                                     |        | <exercise>:after_solution -> "1" if the |        |
|                                     |        | solution was shown before it was solved |        |
| celerylab:learner:<id>:workspace    | hash   | scope (exercise id, or "playground") -> | 400 d  |
|                                     |        | JSON {files, view, saved_at}: the edits |        |
| celerylab:class:<c>:solved:<ex>     | set    | learners of the class who solved <ex>   | 30 d   |

Classrooms (web/classroom/rooms.py, web/classroom/task_tally.py, web/classroom/worker_panel.py);
<c> is a class's join code. Each class key lasts 30 days from the class's latest write.

| key                             | type   | holds                                   | expiry |
|---------------------------------|--------|-----------------------------------------|--------|
| celerylab:classes               | zset   | join code -> Unix time it opened        | 30 d   |
| celerylab:class:<c>             | hash   | code, status (open/closed),             | 30 d   |
|                                 |        | created_at, closed_at, lesson           |        |
| celerylab:class:<c>:members     | hash   | learner -> JSON {nickname, joined_at}   | 30 d   |
| celerylab:class:<c>:nicknames   | hash   | case-folded nickname -> learner         | 30 d   |
| celerylab:class:<c>:rejoin      | hash   | case-folded nickname -> sha256 of the   | 30 d   |
|                                 |        | rejoin key its holder was given         |        |
| celerylab:class:<c>:answers:<q> | hash   | learner -> choice ("-": skipped)        | 30 d   |
| celerylab:class:<c>:revealed    | set    | question ids shown with their answer    | 30 d   |
| celerylab:class:<c>:tasks       | hash   | task id -> the task's latest state      | 30 d   |
| celerylab:class:<c>:counters    | hash   | sent/succeeded/failed/retried, and      | 30 d   |
|                                 |        | now:<state> = tasks in that state now;  |        |
|                                 |        | runs_started/runs_finished (playground) |        |
| celerylab:class:<c>:by_learner  | hash   | <learner>:<sent|succeeded|failed> -> n  | 30 d   |
| celerylab:class:<c>:seen        | set    | events already counted (every web       | 30 d   |
|                                 |        | process receives each; one counts it)   |        |
| celerylab:class:<c>:log         | list   | recent task events (JSON), newest first | 30 d   |
| celerylab:learner:<id>:class    | string | the join code of the learner's class    | 30 d   |
| celerylab:workers:tick:<n>      | string | the web process sampling that 0.5 s     | 5 s    |
| celerylab:workers:depth         | list   | JSON [time, queue depth], oldest first  | 1 h    |
| celerylab:workers:panel         | string | JSON: the workers as last inspected     | 30 s   |

The playground's own keys (``celerylab:playground:…``) are listed in playground/store.py.

Admission (web/safety/admission.py): what one client has in the lab.

| key                                   | type   | holds                                | expiry |
|---------------------------------------|--------|--------------------------------------|--------|
| celerylab:outstanding:learner:<id>    | zset   | task id -> when it can no longer run | hold   |
| celerylab:outstanding:address:<addr>  | zset   | the same, per client address         | hold   |
| celerylab:held:learner:<id>           | string | direct calls holding a request now   | 120 s  |
| celerylab:held:address:<addr>         | string | the same, per client address         | 120 s  |
| celerylab:joins:failed:<addr>:<min>   | string | failed join attempts that minute     | 120 s  |

Celery's own keys (the queue ``celery_lab``, ``celery-task-meta-<id>``, ``unacked*``) belong
to Celery and are not listed here.
"""

PREFIX = "celerylab:"


def route(task_id: str) -> str:
    return f"{PREFIX}route:{task_id}"


def learner_tasks(learner: str) -> str:
    return f"{PREFIX}learner:{learner}:tasks"


def rate_limit(learner: str, second: int) -> str:
    return f"{PREFIX}ratelimit:{learner}:{second}"


def learner_answers(learner: str) -> str:
    return f"{PREFIX}learner:{learner}:answers"


def learner_retries(learner: str) -> str:
    # Second tries at missed questions, kept apart so first answers stay what they were.
    return f"{PREFIX}learner:{learner}:retries"


def learner_read(learner: str) -> str:
    return f"{PREFIX}learner:{learner}:read"


def classes() -> str:
    return f"{PREFIX}classes"


def classroom(code: str, part: str = "") -> str:
    """The class's hash, or one of its parts (``members``, ``tasks``, ``answers:<id>``, …)."""
    return f"{PREFIX}class:{code}:{part}" if part else f"{PREFIX}class:{code}"


def learner_class(learner: str) -> str:
    return f"{PREFIX}learner:{learner}:class"


def workers_tick(tick: int) -> str:
    return f"{PREFIX}workers:tick:{tick}"


def workers_depth() -> str:
    return f"{PREFIX}workers:depth"


def workers_panel() -> str:
    return f"{PREFIX}workers:panel"


def learner_exercises(learner: str) -> str:
    return f"{PREFIX}learner:{learner}:exercises"


def learner_workspace(learner: str) -> str:
    return f"{PREFIX}learner:{learner}:workspace"


def outstanding(kind: str, who: str) -> str:
    """Tasks of a learner or an address (``kind``) not yet finished (web/safety/admission.py)."""
    return f"{PREFIX}outstanding:{kind}:{who}"


def held_calls(kind: str, who: str) -> str:
    return f"{PREFIX}held:{kind}:{who}"


def failed_joins(address: str, minute: int) -> str:
    return f"{PREFIX}joins:failed:{address}:{minute}"
