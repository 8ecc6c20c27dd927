"""A real nginx (Debian's package) running the shipped site file, as the current user, in a tmp folder.

`make test` installs nginx when missing, as it does chromium; without it the tests fail and say so (CI
installs it: a skipped production test would prove nothing). The site file rendered by `confreres deploy
nginx` is included from a minimal nginx.conf that only moves nginx's own files (pid, logs, temp folders)
into the test's folder: the server block under test is the shipped one.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.confreres.conftest import make_network  # noqa: F401  (shared fixture)
from tests.gunicorn import stop

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MIME_TYPES = "/etc/nginx/mime.types"

WRAPPER = """\
{user}worker_processes 1;
error_log {dir}/error.log;
events {{ worker_connections 128; }}
http {{
    include {mime_types};
    default_type application/octet-stream;
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    include {site};
}}
"""


def require_nginx() -> str:
    if not Path(NGINX).is_file():
        pytest.fail("nginx is missing: `make test` installs Debian's nginx (apt-get install nginx), "
                    "as root or through sudo", pytrace=False)
    return NGINX


class Nginx:
    def __init__(self, site: Path, directory: Path, port: int):
        self.site = Path(site)
        self.dir = Path(directory)
        self.port = port
        self.process: subprocess.Popen | None = None

    def command(self, directives: str = "") -> list[str]:
        return [require_nginx(), "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
                "-e", str(self.dir / "error.log"), "-g", f"pid {self.dir}/nginx.pid;{directives}"]

    def start(self, timeout: float = 15.0) -> Nginx:
        (self.dir / "tmp").mkdir(parents=True, exist_ok=True)
        # as root, nginx's workers would run as `nobody`, who cannot read the test's private tmp folder
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};\n" \
            if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(
            WRAPPER.format(user=user, dir=self.dir, mime_types=MIME_TYPES, site=self.site), encoding="utf-8")
        check = subprocess.run([*self.command(), "-t"], capture_output=True, text=True)
        assert check.returncode == 0, f"nginx -t refused the site:\n{check.stderr}\n{self.site.read_text()}"
        self.process = subprocess.Popen(self.command(" daemon off;"), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited ({self.process.returncode}):\n{self.errors()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"nginx did not listen within {timeout} s:\n{self.errors()}") from None
                time.sleep(0.05)

    def errors(self) -> str:
        log = self.dir / "error.log"
        return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""

    def stop(self) -> None:
        stop(self.process, signal.SIGQUIT)  # graceful: workers finish their requests
        self.process = None
