"""Every setting comes from config.py: its default, its variable, a clear error for a bad one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import config
from config import Env, SettingError, Settings

ROOT = Path(config.__file__).resolve().parent


def test_an_empty_environment_gives_the_documented_defaults():
    settings = Settings.from_env({})
    assert settings.redis_url == ""
    assert settings.worker_concurrency == config.WORKER_CONCURRENCY == 64
    assert (settings.launch.port, settings.launch.host, settings.launch.classroom) == (
        8000,
        "",
        False,
    )
    assert settings.launch.worker_restarts == 5
    assert settings.launch.header_timeout == 10.0
    assert settings.limits["MAX_TASKS_PER_LEARNER"] == 10
    assert settings.limits["TRUSTED_PROXIES"] == ()
    assert settings.playground.enabled and settings.playground.warm
    assert settings.playground.limits.wall_seconds == 30
    # The dataclass's own defaults are the environment's defaults: one source.
    assert Settings() == settings


def test_each_section_reads_its_variables():
    settings = Settings.from_env(
        {
            "REDIS_URL": "redis://127.0.0.1:6390/0",
            "CELERY_LAB_PORT": " 8001 ",
            "CELERY_LAB_WORKER_CONCURRENCY": "8",
            "CELERY_LAB_CLASSROOM": "yes",
            "CELERY_LAB_HEADER_TIMEOUT": "2.5",
            "CELERY_LAB_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2,",
            "CELERY_LAB_MAX_SOCKETS_PER_ADDRESS": "0",
            "CELERY_LAB_PLAYGROUND": "off",
            "CELERY_LAB_PLAYGROUND_NICE": "0",
        }
    )
    assert settings.launch.port == 8001 and settings.launch.classroom
    assert settings.worker_concurrency == 8
    assert settings.celery_config()["worker_concurrency"] == 8
    assert settings.celery_config()["broker_url"] == "redis://127.0.0.1:6390/0"
    assert settings.launch.header_timeout == 2.5
    assert settings.limits["TRUSTED_PROXIES"] == ("10.0.0.1", "10.0.0.2")
    assert settings.limits["MAX_SOCKETS_PER_ADDRESS"] == 0
    assert not settings.playground.enabled
    assert settings.playground.limits.nice == 0


def test_blank_means_the_default():
    assert (
        Settings.from_env({"CELERY_LAB_PORT": "  ", "CELERY_LAB_PLAYGROUND": ""}).launch.port
        == 8000
    )


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("CELERY_LAB_PORT", "abc", "CELERY_LAB_PORT must be a whole number, got 'abc'"),
        ("CELERY_LAB_PORT", "70000", "CELERY_LAB_PORT must be from 1 to 65535, got 70000"),
        ("CELERY_LAB_WORKER_CONCURRENCY", "0", "CELERY_LAB_WORKER_CONCURRENCY must be from 1"),
        (
            "CELERY_LAB_MAX_TASKS_PER_LEARNER",
            "-3",
            "CELERY_LAB_MAX_TASKS_PER_LEARNER must be 0 or more, got -3",
        ),
        ("CELERY_LAB_WS_SEND_STALL_SECONDS", "soon", "must be a number, got 'soon'"),
        ("CELERY_LAB_WS_SEND_STALL_SECONDS", "-1", "CELERY_LAB_WS_SEND_STALL_SECONDS must be"),
        ("CELERY_LAB_WS_SEND_STALL_SECONDS", "nan", "CELERY_LAB_WS_SEND_STALL_SECONDS must be"),
        ("CELERY_LAB_HEADER_TIMEOUT", "0", "CELERY_LAB_HEADER_TIMEOUT must be a number from"),
        ("CELERY_LAB_CLASSROOM", "maybe", "CELERY_LAB_CLASSROOM must be one of"),
        ("CELERY_LAB_PLAYGROUND", "perhaps", "CELERY_LAB_PLAYGROUND must be one of"),
        (
            "CELERY_LAB_PLAYGROUND_UID_BASE",
            "0",
            "CELERY_LAB_PLAYGROUND_UID_BASE must be 1000 or more",
        ),
        (
            "CELERY_LAB_PLAYGROUND_FILES_MB",
            "-16",
            "CELERY_LAB_PLAYGROUND_FILES_MB must be 1 or more, got -16",
        ),
        ("CELERY_LAB_PUBLIC_URL", "ftp://lab", "CELERY_LAB_PUBLIC_URL must be an http://"),
        ("CELERY_LAB_LAN_INTERFACE", "eth0; rm", "must name a network interface"),
        ("CELERY_LAB_COOKIE_NAME", "a b", "CELERY_LAB_COOKIE_NAME must be 1-40 letters"),
    ],
)
def test_a_bad_value_is_refused_with_its_variable_named(name, value, says):
    with pytest.raises(SettingError) as refused:
        Settings.from_env({name: value})
    # A SystemExit with one line: run.py, gunicorn and celery print it and stop, no traceback.
    assert isinstance(refused.value, SystemExit)
    assert says in str(refused.value.code)


def test_the_site_needs_redis_url_and_says_how_to_get_one():
    with pytest.raises(SettingError, match="REDIS_URL is not set. Start the site with `make run`"):
        Settings.from_env({}).celery_config()


def test_env_reads_the_given_mapping_only():
    env = Env({"X": "7"})
    assert env.whole("X", 1) == 7
    assert env.whole("Y", 1) == 1
    assert env.flag("Y", default=True) is True


def _read_by_config() -> set[str]:
    return set(re.findall(r'"((?:CELERY_LAB_\w+)|REDIS_URL)"', (ROOT / "config.py").read_text()))


def _documented() -> set[str]:
    rows = re.findall(
        r"^\| `((?:CELERY_LAB_\w+)|REDIS_URL)`", (ROOT / "README.md").read_text(), re.M
    )
    assert len(rows) == len(set(rows)), "a variable is documented twice in the README's tables"
    return set(rows)


def test_every_variable_config_reads_is_in_the_readme_tables_and_no_other():
    read, documented = _read_by_config(), _documented()
    assert read - documented == set(), "read by config.py, missing from the README"
    assert documented - read == set(), "in the README, not read by config.py"


def test_config_py_is_the_only_module_that_reads_the_environment():
    # Passing an environment (or its PATH) on to a child process is fine; reading a setting
    # from it is not. The sandbox's own code (playground/sandboxed/) has an environment of its
    # own, inside the sandbox.
    reads = re.compile(
        r"""(os\.environ\.get\(|os\.getenv\(|os\.environ\[)\s*["'](CELERY_LAB|REDIS_URL)"""
    )
    offenders = []
    for folder in ("web", "worker", "launcher", "playground", "sandbox_tasks", "scripts"):
        for path in (ROOT / folder).rglob("*.py"):
            if "sandboxed" in path.parts:
                continue
            if reads.search(path.read_text()):
                offenders.append(str(path.relative_to(ROOT)))
    for name in ("run.py", "celery_app.py"):
        if reads.search((ROOT / name).read_text()):
            offenders.append(name)
    assert offenders == []
