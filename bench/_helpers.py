"""What several benchmarks share: a free loopback port, the test kits they build their data with, a network.toml."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_kit(name: str):
    """tests/<name>.py loaded as a module of its own (the benchmarks run without the tests package)."""
    spec = importlib.util.spec_from_file_location(name, PROJECT / "tests" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


SERVERS: list[subprocess.Popen] = []  # started by `start`, still running: a benchmark stops them all on exit


def start(name: str, argv: list[str], env: dict, probe_url: str, log: Path) -> subprocess.Popen:
    """Run `argv` (a server) in its own session, its output in `log`; return once `probe_url` answers below 500."""
    handle = open(log, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(argv, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    proc.log_handle = handle  # type: ignore[attr-defined]
    SERVERS.append(proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(probe_url, timeout=2):
                return proc
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return proc
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{name} did not answer at {probe_url} within 60 s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    """Stop a server `start` ran (its whole session), SIGKILL if it does not stop within 10 s."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    proc.log_handle.close()  # type: ignore[attr-defined]
    if proc in SERVERS:
        SERVERS.remove(proc)


def network_toml(own_url: str, others: int = 0) -> str:
    """A network.toml of `others` blogs, then the benchmark's own (slug dr-bench, at `own_url`) listed last: the worst
    place for anything that scans the list, so a cost that grows with the network shows."""
    return ('[network]\nname = "Bench"\nurl = "http://bench.example/"\ncomments_url = "http://127.0.0.1/"\n'
            + "".join(f'[[sites]]\nslug = "dr-{n:05d}"\ntitle = "Blog {n}"\nauthor = "Dr {n}"\n'
                      f'url = "http://blogs{n % 40}.bench/dr-{n:05d}/"\n' for n in range(others))
            + f'[[sites]]\nslug = "dr-bench"\ntitle = "Bench"\nauthor = "Dr Bench"\nurl = "{own_url}"\n')
