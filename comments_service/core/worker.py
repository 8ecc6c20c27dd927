"""The one kind of background thread of the service: woken by `kick()`, it runs a step until idle.

Used by the mail sender (mail/outbox.py: deliver what the outbox holds, after each commit that
queued a mail) and by the Webmention worker (actions/mentions.py: verify the queued requests). One
thread per app and process: `kick()` starts it when there is none, when it died, or after a fork
(the thread of the parent does not exist in the child). `step()` returns the seconds until it has
work again (None: nothing due). With `idle` set, the thread ends after that many quiet seconds; without,
it waits for the next kick forever. A step that raises is logged and the thread carries on.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable


class Worker:
    def __init__(self, app, name: str, step: Callable[[], float | None], *, idle: float | None = None,
                 failure: str = "background worker failed"):
        self.app = app
        self.name = name
        self.step = step
        self.idle = idle
        self.failure = failure
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def kick(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._event = threading.Event()
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._event.set()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _run(self) -> None:
        event = self._event
        while True:
            event.wait()  # set by the kick that started this thread, or by a later one
            event.clear()
            due = None
            try:
                due = self.step()
            except Exception:  # noqa: BLE001 - the thread must survive anything; the work stays queued
                self.app.logger.exception(self.failure)
            if self.idle is None:
                if due is not None:
                    event.wait(due)
                    event.set()
                continue
            timeout = self.idle if due is None else min(max(due, 0.05), self.idle)
            if event.wait(timeout) or due is not None:
                event.set()
                continue
            with self._lock:
                if not event.is_set():
                    self._thread = None
                    return
