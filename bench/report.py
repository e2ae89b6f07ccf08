"""A run's results as a markdown table, a JSON file, a plot, and the READMEs' latest table."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from . import machine
from .classroom import runs_of

RESULTS = Path(__file__).resolve().parent / "results"
# Both READMEs show the latest table, between the markers below.
READMES = (
    Path(__file__).resolve().parent / "README.md",
    Path(__file__).resolve().parent.parent / "README.md",
)
START, END = "<!-- latest-results:start -->", "<!-- latest-results:end -->"


def _pair(summary: dict) -> str:
    if not summary or summary.get("p50_ms") is None:
        return "n/a"
    return f"{summary['p50_ms']:.1f} / {summary['p99_ms']:.1f}"


def _yes(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "n/a"}[met]


def targets(results: dict) -> list[tuple[str, str, bool | None]]:
    """Each target of the issue, what this run measured, and whether it is met."""
    rows = []
    stream = results.get("stream")
    if stream:
        r = stream["ratios"]
        rows.append(
            (
                "site p50 ≤ 1.2 × raw event floor p50",
                f"{r['site_vs_raw_event_p50']}×",
                r["site_vs_raw_event_p50"] is not None and r["site_vs_raw_event_p50"] <= 1.2,
            )
        )
        rows.append(
            (
                "site p50 ≤ 2 × raw round trip p50",
                f"{r['site_vs_raw_get_p50']}×",
                r["site_vs_raw_get_p50"] is not None and r["site_vs_raw_get_p50"] <= 2,
            )
        )
    chromium = results.get("browser")
    if chromium:
        value = chromium["ratios"]["page_vs_raw_get_p50"]
        rows.append(
            (
                "learner's page in Chromium p50 ≤ 1.5 × raw round trip p50",
                f"{value}×",
                value is not None and value <= 1.5,
            )
        )
    classes = results.get("classroom", [])
    if classes:
        every = [run for c in classes for run in runs_of(c)]
        exact = all(
            run["events"]["missing"] == 0
            and run["events"]["misrouted"] == 0
            and run["events"]["delivered"] == run["events"]["expected"]
            for run in every
        )
        rows.append(
            (
                "every click sent a task (none refused or unanswered), every run",
                "; ".join(
                    f"{c['learners']}: {sum(r['refused_clicks'] for r in runs_of(c))} refused, "
                    f"{sum(r['unanswered_clicks'] for r in runs_of(c))} unanswered"
                    for c in classes
                ),
                all(not r["refused_clicks"] and not r["unanswered_clicks"] for r in every),
            )
        )
        rows.append(
            (
                "every event delivered, to the right learner only, every run",
                "; ".join(
                    f"{c['learners']}: {sum(r['events']['delivered'] for r in runs_of(c))}/"
                    f"{sum(r['events']['expected'] for r in runs_of(c))}, "
                    f"{sum(r['events']['misrouted'] for r in runs_of(c))} misrouted"
                    for c in classes
                ),
                exact,
            )
        )
        biggest = max(classes, key=lambda c: c["learners"])
        for figure, name, bound in (
            (
                "click_to_event_p99_ms",
                f"click → first event p99 ≤ 250 ms at {biggest['learners']} learners, "
                "opening burst included",
                lambda v: v <= 250,
            ),
            (
                "after_burst_p99_ms",
                "(the same, leaving out the first 2 s, when the whole class clicks at once)",
                lambda v: v <= 250,
            ),
            (
                "event_lag_p99_ms",
                f"event lag p99 < 100 ms at {biggest['learners']} learners",
                lambda v: v < 100,
            ),
        ):
            measured, median = _median_of_runs(biggest, figure)
            rows.append((name, measured, median is not None and bound(median)))
        for c in classes:
            measured, median = _median_of_runs(c, "last_slow_start_ms")
            rows.append(
                (
                    f"every slow task started within 1 s of the click ({c['learners']} "
                    f"learners, {c.get('worker_concurrency', '?')} worker threads)",
                    f"last after {measured}",
                    all(r["all_started"] for r in runs_of(c))
                    and median is not None
                    and median <= 1000,
                )
            )
    pages = results.get("pages")
    if pages:
        p50 = pages["server_time"]["p50_ms"]
        rows.append(
            ("lesson page p50 < 5 ms after warm-up", f"{p50} ms", p50 is not None and p50 < 5)
        )
        weight = pages["weight"]
        rows.append(
            (
                "a lesson page loads < 150 KB, all local",
                f"{weight['max_kb']} KB ({weight['heaviest']}), "
                f"{'all local' if weight['all_local'] else 'NOT all local'}",
                weight["max_kb"] is not None and weight["max_kb"] < 150 and weight["all_local"],
            )
        )
    return rows


def _median_of_runs(row: dict, figure: str) -> tuple[str, float | None]:
    """``figure``'s median over the runs of ``row``'s class, as shown, and as a number."""
    values = [run[figure] for run in runs_of(row)]
    known = [v for v in values if v is not None]
    if not known:
        return "n/a", None
    median = round(statistics.median(known), 1)
    if len(values) == 1:
        return f"{median:g} ms", median
    each = ", ".join("n/a" if v is None else f"{v:.0f}" for v in values)
    return f"{median:g} ms (median of {len(values)} runs: {each})", median


def _slow_start_stages(classes: list[dict]) -> list[str]:
    """Where the slow tasks' wait for their start went, by the events' own timestamps."""
    parts = []
    for c in classes:
        stages = c["slow_click_to_started"].get("stages")
        if stages and all(stages[k]["n"] for k in ("web", "queue", "pool")):
            parts.append(
                f"{c['learners']}: {stages['web']['p99_ms']:.0f} / {stages['queue']['p99_ms']:.0f}"
                f" / {stages['pool']['p99_ms']:.0f}"
            )
    if not parts:
        return []
    return [
        "Where a slow task waited before it started, p99 ms by the web's and the worker's own "
        "clocks: click → `task-sent` (the web) / → `task-received` (the queue in Redis) / → "
        "`task-started` (the worker's pool): " + "; ".join(parts) + "."
    ]


def markdown(results: dict) -> str:
    meta = results["meta"]
    lines = [
        f"Run {meta['finished']} with `{meta['command']}` ({meta['mode']}) on {meta['cpus']} "
        f"CPUs, Python {meta['python']}, Celery {meta['celery']}, Redis {meta['redis']}; "
        f"load average {meta['load_before']} before, {meta['load_after']} after. "
        f"Worker: {meta.get('workers', 1)} process(es), threads pool, concurrency "
        f"{meta['worker_concurrency']} in all; web: "
        f"{meta.get('webs', 1)} gunicorn server(s) of {meta.get('web_processes', 1)} "
        + (
            "gevent process(es)."
            if meta.get("web_worker") == "gevent"
            else f"gthread process(es), {meta['web_threads']} threads each."
        )
        + (f" {machine.describe(meta['machine'])}" if meta.get("machine") else ""),
        "",
    ]
    stream = results.get("stream")
    if stream:
        lines += [
            f"**Stream latency**, add(2, 3), {stream['site']['n']} of each, interleaved (ms)",
            "",
            "| path | p50 | p99 | max |",
            "|---|---:|---:|---:|",
        ]
        for key, label in (
            ("site", "site: a page's `.delay()` press on its websocket → `task-succeeded` there"),
            ("raw_get", "raw Celery: `add.delay(2, 3).get()`"),
            ("raw_event", "raw Celery: `apply_async` → `task-succeeded` at a bare Receiver"),
        ):
            s = stream.get(key)
            if s is None:
                continue  # a results file from before the path was measured
            lines.append(f"| {label} | {s['p50_ms']} | {s['p99_ms']} | {s['max_ms']} |")
        r = stream["ratios"]
        lines += [
            "",
            f"Site ÷ raw event floor: p50 {r['site_vs_raw_event_p50']}×, p99 "
            f"{r['site_vs_raw_event_p99']}×. Site ÷ raw round trip: p50 "
            f"{r['site_vs_raw_get_p50']}×, p99 {r['site_vs_raw_get_p99']}×."
            + (
                f" Page ÷ raw round trip: p50 {r['page_vs_raw_get_p50']}×, p99 "
                f"{r['page_vs_raw_get_p99']}×."
                if "page_vs_raw_get_p50" in r
                else ""
            ),
            "",
        ]
    chromium = results.get("browser")
    if chromium:
        lines += [
            f"**In headless Chromium**, add(2, 3), {chromium['page']['n']} of each, "
            "interleaved (ms)",
            "",
            "| path | p50 | p99 | max |",
            "|---|---:|---:|---:|",
        ]
        for key, label in (
            ("page", "page: a `.delay()` press on its websocket → `task-succeeded` frame"),
            ("drawn", "… → its card drawn as succeeded (the frame after it began)"),
            ("reply", "the press's reply alone (`sent`, with the task id)"),
            ("post", "a direct call, add(2, 3) in the web process, as an HTTP POST (fetch)"),
            ("ws_ping", "a websocket ping → pong in the same page"),
            ("raw_get", "raw Celery: `add.delay(2, 3).get()`"),
        ):
            s = chromium.get(key)
            if s is None:  # a result from before this row existed
                continue
            lines.append(f"| {label} | {s['p50_ms']} | {s['p99_ms']} | {s['max_ms']} |")
        r = chromium["ratios"]
        lines += [
            "",
            f"Page in Chromium ÷ raw round trip: p50 {r['page_vs_raw_get_p50']}×, p99 "
            f"{r['page_vs_raw_get_p99']}×.",
            "",
        ]
    classes = results.get("classroom", [])
    if classes:
        lines += [
            f"**Classroom load**, {classes[0]['duration_s']} s of clicking per learner, "
            "p50 / p99 in ms"
            + (
                f"; each row is the median of {len(runs_of(classes[0]))} runs by click → event "
                "p99 (every run's figures are in the targets below)"
                if len(runs_of(classes[0])) > 1
                else ""
            ),
            "",
            "| learners | tasks | clicks refused | events delivered / expected | misrouted "
            "| click → event | after the first 2 s | event lag | fast task click → succeeded "
            "| last slow task started "
            "| web RSS MB, CPU % | worker RSS MB, CPU % | Redis CPU % | clients' CPU %, late p99 |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for c in classes:
            ev, res = c["events"], c["resources"]
            slow = c["slow_click_to_started"]
            started = f"{slow['max_ms']:.0f} ms" if slow["max_ms"] is not None else "n/a"
            if not slow["all_started"]:
                started += " (not all)"
            refused = ", ".join(f"{n} {code}" for code, n in c["refused_by"].items()) or "0"
            lines.append(
                f"| {c['learners']} | {c['tasks']} | {refused} "
                f"| {ev['delivered']} / {ev['expected']} "
                f"| {ev['misrouted']} | {_pair(c['click_to_event'])} "
                f"| {_pair(c['click_to_event_after_burst'])} | {_pair(c['event_lag'])} "
                f"| {_pair(c['fast_click_to_succeeded'])} | {started} "
                f"| {res['web']['peak_rss_mb']}, {res['web']['cpu_percent']} "
                f"| {res['worker']['peak_rss_mb']}, {res['worker']['cpu_percent']} "
                f"| {res['redis']['cpu_percent']} "
                f"| {res['clients']['cpu_percent']}, {c['clients_late']['p99_ms']:.0f} ms |"
            )
        lines += ["", *_slow_start_stages(classes), ""]
    pages = results.get("pages")
    if pages:
        t, w = pages["server_time"], pages["weight"]
        lines += [
            f"**Pages**: a lesson page in {t['p50_ms']} ms p50, {t['p99_ms']} ms p99 "
            f"({t['n']} requests over {len(t['lessons'])} lessons, after warm-up); the heaviest, "
            f"{w['heaviest']}, loads {w['max_kb']} KB in total"
            f"{', all from this site' if w['all_local'] else ' (NOT all local)'}.",
            "",
        ]
    lines += ["| target | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {measured} | {_yes(met)} |" for name, measured, met in targets(results)]
    run = results.get("playground")
    if run:
        b, e, crowd = run["press_to_banner"], run["press_to_end"], run["burst"]
        lines += [
            "",
            f"**Playground** (bench/playground.py), {run['concurrency']} runs at once, "
            f"{b['n']} runs one after another (ms)",
            "",
            "| path | p50 | p95 | max |",
            "|---|---:|---:|---:|",
            f"| Run pressed → worker banner on the websocket | {b['p50_ms']} | {b['p95_ms']} "
            f"| {b['max_ms']} |",
            f"| Run pressed → run ended (add.delay(2, 3).get()) | {e['p50_ms']} | "
            f"{e['p95_ms']} | {e['max_ms']} |",
            "",
            f"{crowd['learners']} learners pressing Run at once: {crowd['finished']} finished "
            f"(others: {crowd['other_states'] or 'none'}), queue position up to "
            f"{crowd['max_position']}, all done in {crowd['all_done_s']} s. Memory per run "
            f"(its sandbox's processes, peak RSS): {run['memory_per_run_mb']} MB.",
        ]
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> None:
    """Latency against learners: click → event, event lag, and a fast task's whole trip."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = sorted(results.get("classroom", []), key=lambda c: c["learners"])
    if not classes:
        return
    x = [c["learners"] for c in classes]
    fig, ax = plt.subplots(figsize=(7.5, 5.2), dpi=120)
    series = (
        ("click_to_event", "click → first event", "tab:blue"),
        ("click_to_event_after_burst", "the same, after the first 2 s", "tab:purple"),
        ("event_lag", "event lag (made → on the page)", "tab:green"),
        ("fast_click_to_succeeded", "fast task: click → succeeded", "tab:orange"),
    )
    for key, label, color in series:
        for pct, style in (("p50_ms", "-"), ("p99_ms", "--")):
            y = [c.get(key, {}).get(pct) for c in classes]
            if any(v is not None for v in y):
                ax.plot(x, y, style, marker="o", color=color, label=f"{label}, {pct[:3]}")
    ax.axhline(100, color="tab:red", linewidth=0.8, linestyle=":", label="target: 100 ms")
    ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xlabel("learners connected and clicking")
    ax.set_ylabel("latency (ms, log scale)")
    ax.set_title(f"Celery Lab under a classroom load ({results['meta']['finished'][:10]})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write(results: dict) -> dict[str, Path]:
    """Write this run's files and the latest ones; put the latest table in the README."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    runs = RESULTS / "runs"
    runs.mkdir(exist_ok=True)
    stamp = results["meta"]["finished"].replace(":", "").replace("-", "")
    table = markdown(results)
    text = json.dumps(results, indent=2, sort_keys=True) + "\n"
    paths = {
        "md": RESULTS / "latest.md",
        "json": RESULTS / "latest.json",
        "png": RESULTS / "latency.png",
        "run_md": runs / f"{stamp}.md",
        "run_json": runs / f"{stamp}.json",
    }
    for key in ("md", "run_md"):
        paths[key].write_text(table)
    for key in ("json", "run_json"):
        paths[key].write_text(text)
    plot(results, paths["png"])
    for readme_path in READMES:
        readme = readme_path.read_text() if readme_path.exists() else ""
        if START in readme and END in readme:
            head, rest = readme.split(START, 1)
            _, tail = rest.split(END, 1)
            readme_path.write_text(f"{head}{START}\n{table}{END}{tail}")
    return paths
