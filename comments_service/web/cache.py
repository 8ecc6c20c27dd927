"""Per-process cache of public thread JSON bytes, keyed by post URL and checked against its version.

A hit costs the one query that reads the post's version; a write anywhere (another gunicorn
worker included) bumps that version in the database, so no worker serves a stale thread.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    version: int
    etag: str
    body: bytes


class ThreadCache:
    def __init__(self, size: int = 2000):
        self.size = size
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str, version: int) -> Entry | None:
        with self._lock:
            entry = self._entries.get(url)
            if entry is None or entry.version != version:
                return None
            self._entries.move_to_end(url)
            return entry

    def put(self, url: str, entry: Entry) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._entries[url] = entry
            self._entries.move_to_end(url)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
