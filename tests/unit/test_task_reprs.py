"""A press's argsrepr/kwargsrepr: made with repr only where that is exactly Celery's saferepr."""

from __future__ import annotations

import random

from celery.utils.saferepr import saferepr

from web.lessons.experiments.task_reprs import plain_repr

MAXSIZE = 1024
LEVELS = 3  # Celery's task_repr_maxlevels default


def celerys(value) -> str:
    return saferepr(value, MAXSIZE, maxlevels=LEVELS)


def scalar(rng: random.Random):
    return rng.choice(
        [
            rng.randint(-(10**30), 10**30),
            rng.randint(-5, 5),
            rng.uniform(-1e6, 1e6),
            rng.choice([0.1, 1e300, -0.0, float("inf"), float("-inf")]),
            rng.choice([True, False, None]),
            "".join(rng.choice("abcXYZ019_ .:+-") for _ in range(rng.randint(0, 12))),
        ]
    )


def value(rng: random.Random, depth: int):
    if depth == 0 or rng.random() < 0.4:
        return scalar(rng)
    size = rng.randint(0, 5)
    kind = rng.choice([tuple, list, dict])
    if kind is dict:
        return {scalar(rng): value(rng, depth - 1) for _ in range(size)}
    return kind(value(rng, depth - 1) for _ in range(size))


def test_whatever_it_writes_is_what_celery_writes():
    rng = random.Random(7)
    made = 0
    for _ in range(5000):
        sample = value(rng, rng.randint(0, 4))
        mine = plain_repr(sample, MAXSIZE)
        if mine is not None:
            made += 1
            assert mine == celerys(sample), sample
    assert made > 2000  # and it does write most of them: the buttons' arguments are like these


def test_the_buttons_usual_arguments_are_made_here():
    for args in [(2, 3), (), (1,), ([1, 2, 3],), (True, None, 2.5)]:
        assert plain_repr(args, MAXSIZE) == celerys(args)
    for kwargs in [{}, {"failures": 2, "max_retries": 3}, {"shape": "chain", "steps": 3}]:
        assert plain_repr(kwargs, MAXSIZE) == celerys(kwargs)


def test_what_saferepr_writes_its_own_way_is_left_to_celery():
    # Strings (its own quoting), nesting it elides, text past its size, unknown types.
    long_word = "a" * 101
    for sample in [
        ("it's",),
        ("\n",),
        ("é",),
        (long_word,),
        ({"n": {"m": [1]}},),
        ((1,) * 400,),
        (b"x",),
        ({1},),
    ]:
        assert plain_repr(sample, MAXSIZE) is None, sample
