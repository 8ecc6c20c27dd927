"""What several benchmarks share: a free loopback port, and the test kits they build their data with."""

from __future__ import annotations

import importlib.util
import socket
import sys
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
