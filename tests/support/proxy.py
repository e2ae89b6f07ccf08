"""Debian's nginx as a child of the test, running the deployment guide's own config.

docs/nginx.conf is used as written, but for the lines it marks "# site:" (where the web
processes are, where nginx listens). Around it goes a small main config of the test's own: a
prefix in a temporary directory, `daemon off`, logs and temp files there, nothing under /etc
or /var touched.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from config import ROOT
from launcher import waiting

GUIDE = ROOT / "docs" / "nginx.conf"
# The access log names the web process (upstream) that served each request.
MAIN = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format upstreams '$upstream_addr $status "$request"';
    access_log {prefix}/access.log upstreams;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {prefix}/celery-lab.conf;
}}
"""


def guide_config(web_addresses: list[str], listen: str) -> str:
    """docs/nginx.conf with its marked lines pointed at ``web_addresses`` and ``listen``."""
    text = GUIDE.read_text()
    marked_web = re.findall(r"^\s*server \S+;\s*# site: web$", text, flags=re.M)
    assert len(marked_web) == len(web_addresses), "the guide shows one line per web process"
    addresses = iter(web_addresses)
    text = re.sub(
        r"^(\s*)server \S+;(\s*# site: web)$",
        lambda m: f"{m[1]}server {next(addresses)};{m[2]}",
        text,
        flags=re.M,
    )
    text, listens = re.subn(
        r"^(\s*)listen \S+;(\s*# site: listen)$", rf"\1listen {listen};\2", text, flags=re.M
    )
    assert listens == 1
    return text


class Nginx:
    def __init__(self, prefix: Path, web_addresses: list[str], port: int):
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.port = port
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.prefix = prefix
        (prefix / "tmp").mkdir(parents=True)
        (prefix / "celery-lab.conf").write_text(
            guide_config(web_addresses, f"127.0.0.1:{self.port}")
        )
        (prefix / "nginx.conf").write_text(MAIN.format(prefix=prefix))
        self._log = open(prefix / "nginx.out", "wb")  # closed in stop()
        self.popen = subprocess.Popen(
            [
                binary,
                "-p",
                str(prefix),
                "-c",
                str(prefix / "nginx.conf"),
                "-e",
                str(prefix / "error.log"),
                "-g",
                "daemon off;",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            waiting.wait_for_http(self.base_url + "/api/health", time.monotonic() + 30, self.popen)
        except SystemExit as exc:
            self.stop()
            raise AssertionError(f"nginx did not start: {exc}\n{self.errors()}") from None

    def errors(self) -> str:
        return (self.prefix / "nginx.out").read_text() + (self.prefix / "error.log").read_text()

    def upstreams_used(self) -> set[str]:
        log = (self.prefix / "access.log").read_text()
        return {line.split()[0] for line in log.splitlines() if line.split()[0] != "-"}

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()  # SIGTERM: nginx's fast shutdown, workers and all
            self.popen.wait(10)
        self._log.close()
