"""A request refused before its body is read still gets its answer: the service reads the rest of the body.

Under gunicorn's sync workers, answering (403 for a wrong blog token, 413, 415) without reading the body
and closing the socket with unread bytes makes the kernel reset the connection: the client (nginx, in
production) may lose the answer and, behind nginx, the reader got a 502 instead of the API's JSON error.
Found by tests/deploy/test_nginx.py; shown here without nginx, on a raw socket, with a body larger than
the socket buffers: the client cannot even finish sending it unless the server reads it.
"""

from __future__ import annotations

import socket

import pytest

from tests.conftest import NETWORK_TOML, SECRET
from tests.gunicorn import Gunicorn, environment

BODY = 7 * 1024 * 1024  # under the largest body the service takes (a blog's post list, 8 MB), over any socket buffer


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    root = tmp_path_factory.mktemp("drain")
    (root / "network.toml").write_text(NETWORK_TOML, encoding="utf-8")
    env = environment(SECRET_KEY=SECRET, NETWORK=root / "network.toml", DB=root / "comments.sqlite3",
                      MAIL_SEND="cron")
    with Gunicorn(env, root / "gunicorn.log", workers=1) as live:
        yield live


def exchange(port: int, head: str, size: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head.encode() + b"\r\n")
        sock.sendall(b" " * size)  # ConnectionResetError / BrokenPipeError when the server left without reading
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("path, content_type, status", [
    ("/api/sites/dr-a/posts", "application/json", b"403"),  # a wrong token: refused before the body is read
    ("/api/comments", "text/plain", b"415"),
    ("/api/comments", "application/json", b"413"),  # over 64 KB: refused from its Content-Length
])
def test_a_refused_body_is_read_before_the_answer(service, path, content_type, status):
    method = "PUT" if "sites" in path else "POST"
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Authorization: Bearer faux\r\nContent-Length: {BODY}\r\nConnection: close\r\n")
    answer = exchange(service.port, head, BODY)
    assert answer.split(b" ", 2)[1] == status, answer[:300]
    assert b'"error"' in answer
