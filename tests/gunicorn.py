"""A real gunicorn serving the comment service on a free loopback port, as production runs it.

`Gunicorn(env).start()` runs `gunicorn 'comments_service:create_app()'` from this virtualenv (the command of
deploy/systemd/confreres-comments.service), configured by CONFRERES_* variables only, and waits until it
answers; `stop()` ends it. Its output goes to a log file that a failing start prints.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.smtp import free_port

BIN = Path(sys.executable).parent
CONFIG = "python:comments_service.gunicorn_conf"  # the unit's: its access log (path only, no query string)


def environment(**settings) -> dict[str, str]:
    """os.environ without any CONFRERES_* of the developer's shell, plus `settings` as CONFRERES_<KEY>."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONFRERES_")}
    env.update({f"CONFRERES_{key}": str(value) for key, value in settings.items()})
    return env


def stop(process: subprocess.Popen | None, how: signal.Signals, timeout: float = 15.0) -> None:
    """Ask a server we started to stop (`how`), then kill it if it has not within `timeout` seconds."""
    if process is not None and process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Gunicorn:
    def __init__(self, env: dict[str, str], log: Path, workers: int = 2, port: int | None = None):
        self.env = env
        self.log = Path(log)
        self.workers = workers
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Gunicorn:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "--preload", "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
                 "--timeout", "30", "--config", CONFIG, "comments_service:create_app()"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/api/sites", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.output()}")
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        stop(self.process, signal.SIGTERM)  # graceful: the master stops its workers
        self.process = None

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
