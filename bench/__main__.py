"""``python -m bench [--quick]``: start a real stack, measure it, write bench/results/.

Starts its own redis-server, one Celery worker and one gunicorn web server with the commands
``run.py`` uses (threads pool, concurrency 64; gthread, 512 threads), then measures stream
latency against raw Celery, a classroom of simulated learners, and the lesson pages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import time
import urllib.request

import celery

import config
from launcher import commands
from tests.support.stack import Stack, poll
from web.lessons.experiments import EXPERIMENTS

from . import browser, classroom, latency, machine, pages, playground, report
from .clients import EventTape, Observer, plain_celery
from .resources import Sampler


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer samples and a shorter classroom (about a minute)",
    )
    parser.add_argument(
        "--learners",
        default="50,100,200,300",
        help="classroom sizes, comma-separated (default 50,100,200,300)",
    )
    parser.add_argument("--duration", type=float, help="seconds each learner clicks (20; 6)")
    parser.add_argument(
        "--interval",
        type=float,
        default=2.0,
        help="seconds between a learner's fast clicks, on average (2)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="runs of each classroom size (3; 1 with --quick): the table shows the median run, "
        "the targets each figure's median and every run's value",
    )
    parser.add_argument("--iterations", type=int, help="stream latency samples (300; 60)")
    parser.add_argument("--page-requests", type=int, help="requests per lesson page (200; 30)")
    parser.add_argument(
        "--concurrency",
        type=int,
        help="worker threads (default: 64, or more for a bigger class: 1.25 × its learners, "
        "so that every slow task of a class pressing at once starts at once)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes reading the queue, the threads split among them (1, as run.py)",
    )
    parser.add_argument("--web-threads", type=int, default=512, help="gunicorn threads (512)")
    parser.add_argument(
        "--webs",
        type=int,
        default=1,
        help="web servers, each on its own port; learners are spread over them in turn (1)",
    )
    parser.add_argument(
        "--web-processes",
        type=int,
        default=config.Settings.from_env().launch.web_processes,
        help="gunicorn processes behind each web server's port, as run.py starts "
        f"(CELERY_LAB_WEB_PROCESSES; here {config.Settings.from_env().launch.web_processes})",
    )
    parser.add_argument(
        "--web-worker",
        choices=sorted(commands.WEB_WORKERS),
        default="threads",
        help="gunicorn worker class: the site's own gthread worker (threads), or gevent, to "
        "compare (threads)",
    )
    parser.add_argument(
        "--skip", default="", help="comma-separated: stream,browser,classroom,pages,playground"
    )
    args = parser.parse_args(argv)
    args.duration = args.duration or (6.0 if args.quick else 20.0)
    args.iterations = args.iterations or (60 if args.quick else 300)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.page_requests = args.page_requests or (30 if args.quick else 200)
    try:
        args.learners = [int(n) for n in args.learners.split(",") if n.strip()]
    except ValueError:
        parser.error(f"--learners must be whole numbers separated by commas, not {args.learners!r}")
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    for flag in ("workers", "webs", "web_processes", "rounds"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1")
    if args.concurrency is None:
        biggest = max(args.learners, default=0) if "classroom" not in args.skip else 0
        args.concurrency = max(64, -(-biggest * 5 // 4))
    return args


def experiments() -> dict[str, tuple[str, dict]]:
    """The buttons the classroom presses, with their parameters (defaults where not given)."""
    chosen = {"fast": classroom.FAST, "slow": classroom.SLOW, "retry": classroom.RETRY}
    ready = {}
    for kind, (name, params) in chosen.items():
        experiment = EXPERIMENTS.get(name)
        if experiment is None:
            raise SystemExit(f"bench: the site has no experiment {name!r} for the {kind} button")
        ready[kind] = (name, {**{p.name: p.default for p in experiment.params}, **params})
    return ready


def idle(stack: Stack, base_urls: list[str], processes: int = 1) -> None:
    """Wait until the last phase's tasks are done and its sockets closed, on every process."""
    latest: dict[tuple[str, int], int] = {}  # (server, pid) -> its open sockets, as it last said

    def ask(base_url: str) -> None:
        # Each answer is one process's (any of the server's): ask until every one has said.
        for _ in range(4 * processes):
            with urllib.request.urlopen(base_url + "/api/health", timeout=10) as response:
                answer = json.loads(response.read())
            latest[(base_url, answer["pid"])] = answer["sockets"]

    def quiet() -> bool:
        for url in base_urls:
            ask(url)
        everyone = len(latest) >= len(base_urls) * processes
        return everyone and not any(latest.values()) and stack.redis().llen(config.QUEUE) == 0

    poll(quiet, 120, interval=0.2, message="the site to be idle")


def measure(
    args: argparse.Namespace, stack: Stack, base_urls: list, observer: Observer, app, pids: dict
) -> dict:
    results: dict = {}
    if "stream" not in args.skip:
        print("bench: stream latency…", flush=True)
        results["stream"] = latency.measure(base_urls[0], app, observer, args.iterations)
    # The live observer is the stream phase's alone: left running, it would decode every event
    # of the later phases in this process, on the cores it shares with Chromium and the site
    # (the classes' events are taped and decoded afterwards, EventTape).
    observer.stop()
    if "browser" not in args.skip:
        print("bench: the learner's path in Chromium…", flush=True)
        results["browser"] = browser.measure(base_urls[0], app, args.iterations)
    if "classroom" not in args.skip:
        results["classroom"] = []
        buttons = experiments()
        for count in args.learners:
            runs = []
            for run in range(args.rounds):
                idle(stack, base_urls, args.web_processes)
                print(f"bench: classroom of {count}, run {run + 1} of {args.rounds}…", flush=True)
                # The class runs in a process of its own (the load generator): its CPU is its own.
                with (
                    EventTape(app) as tape,
                    classroom.Generator(
                        base_urls, count, args.duration, args.interval, buttons
                    ) as generator,
                ):
                    with Sampler({**pids, "clients": [generator.pid]}) as sampler:
                        sims, connect_s = generator.result()
                row = classroom.analyse(sims, tape)
                row.update(
                    worker_concurrency=args.concurrency,
                    webs=len(base_urls),
                    duration_s=args.duration,
                    interval_s=args.interval,
                    connect_s=round(connect_s, 2),
                    resources=sampler.result,
                )
                runs.append(row)
            results["classroom"].append(classroom.median_run(runs))
    if "pages" not in args.skip:
        print("bench: pages…", flush=True)
        base_url = base_urls[0]
        slugs = pages.lesson_slugs(base_url)
        results["pages"] = {
            "server_time": pages.server_time(base_url, slugs, args.page_requests),
            "weight": pages.page_weight(base_url, slugs),
        }
    if "playground" not in args.skip:
        print("bench: playground…", flush=True)
        idle(stack, base_urls, args.web_processes)
        runs, crowd = (5, 10) if args.quick else (20, 30)
        results["playground"] = playground.measure(stack, base_urls[0], runs, crowd)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stack = Stack()
    meta = {
        "command": " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)]),
        "mode": "quick" if args.quick else "full",
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "celery": celery.__version__,
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "worker_concurrency": args.concurrency,
        "workers": args.workers,
        "web_threads": args.web_threads,
        "webs": args.webs,
        "web_processes": args.web_processes,
        "web_worker": args.web_worker,
    }
    observer = None
    try:
        stack.start_redis()
        share = -(-args.concurrency // args.workers)  # each worker's part of the threads
        workers = [
            stack.start_worker(f"bench{i}" if i else "bench", concurrency=share)
            for i in range(args.workers)
        ]
        webs = [
            stack.start_web(
                threads=args.web_threads, processes=args.web_processes, worker=args.web_worker
            )
            for _ in range(args.webs)
        ]
        meta["redis"] = stack.redis().info("server")["redis_version"]
        meta["machine"] = machine.speed(stack.redis())
        app = plain_celery(stack.url)
        observer = Observer(app)
        observer.start()
        pids = {
            "web": [web.popen.pid for web, _ in webs],
            "worker": [worker.popen.pid for worker in workers],
            "redis": [stack.redis_process.popen.pid],
        }
        started = time.monotonic()
        results = measure(args, stack, [url for _, url in webs], observer, app, pids)
        meta["seconds"] = round(time.monotonic() - started, 1)
    finally:
        if observer is not None:
            observer.stop()
        stack.stop()
        shutil.rmtree(stack.dir, ignore_errors=True)
    meta["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    meta["load_after"] = [round(x, 2) for x in os.getloadavg()]
    results["meta"] = meta
    paths = report.write(results)
    print(report.markdown(results))
    print("bench: wrote " + ", ".join(str(p.relative_to(config.ROOT)) for p in paths.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
