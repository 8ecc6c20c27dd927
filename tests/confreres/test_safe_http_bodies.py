"""What a stranger's server answers is read within the cap, compressed or not (confreres/safe_http.py).

A Webmention source or an inbox's `keyId` is any server's answer: httpx's own decoding inflated each chunk whole
before the cap was checked, and 2 KB gzipped twice made 2 GB. A real server on 127.0.0.1 (tests/loopback.py).
"""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest

from confreres import safe_http
from tests.loopback import LoopbackServer

PAGE = "<p>Une réponse de confrère.</p>".encode() * 40


def guard(server) -> safe_http.Guard:
    return safe_http.Guard(allow=[f"127.0.0.1:{server.port}"], max_bytes=64 * 1024, timeout=5)


@pytest.mark.parametrize("coding, body", [
    ("gzip", gzip.compress(PAGE, mtime=0)),
    ("x-gzip", gzip.compress(PAGE, mtime=0)),
    ("deflate", zlib.compress(PAGE)),
    ("deflate", zlib.compress(PAGE)[2:-4]),  # raw deflate, as some servers send it
    ("identity", PAGE),
], ids=["gzip", "x-gzip", "zlib", "raw-deflate", "identity"])  # ids: xdist workers must collect the same names
def test_compressed_answers_are_read(coding, body):
    with LoopbackServer() as server:
        server.route("/page", body=body, headers={"Content-Encoding": coding})
        with guard(server) as client:
            fetched = client.get(server.url("/page"))
    assert fetched.body == PAGE and not fetched.truncated


def test_a_compression_bomb_is_cut_at_the_cap_without_inflating_it():
    bomb = gzip.compress(b"\0" * (256 * 1024 * 1024), compresslevel=9)  # 256 MiB of zeros in ~250 KB
    with LoopbackServer() as server:
        server.route("/bomb", body=bomb, headers={"Content-Encoding": "gzip"})
        with guard(server) as client:
            tracemalloc.start()
            fetched = client.get(server.url("/bomb"))
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    assert fetched.truncated and len(fetched.body) == 64 * 1024
    assert peak < 16 * 1024 * 1024, f"{peak / 2**20:.0f} MiB to read a 64 KiB answer"


@pytest.mark.parametrize("coding", ["gzip, gzip", "br", "zstd"])
def test_a_compression_not_asked_for_is_refused(coding):
    with LoopbackServer() as server:
        server.route("/page", body=gzip.compress(gzip.compress(PAGE)), headers={"Content-Encoding": coding})
        with guard(server) as client, pytest.raises(safe_http.Refused, match="compression non prise en charge"):
            client.get(server.url("/page"))


def test_the_client_asks_only_for_what_it_decodes():
    with LoopbackServer() as server:
        server.route("/page", body=PAGE)
        with guard(server) as client:
            client.get(server.url("/page"))
        assert server.requests[-1].headers["Accept-Encoding"] == "gzip, deflate"
