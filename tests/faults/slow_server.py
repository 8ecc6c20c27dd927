"""Real sockets on 127.0.0.1 that never give a usable answer in time: a hanging server and "slowloris" ones.

    with SlowServer(every=0.25) as server:
        server.url("/silent")   # accepts, reads the request, never answers a byte
        server.url("/headers")  # answers a status line, then an endless header one byte every `every` s
        server.url("/body")     # answers whole headers, then the body one byte every `every` s, forever

A byte every quarter second defeats any per-read timeout longer than that: only a deadline on the whole
exchange stops it. Each connection is served by its own thread until the client goes away or `close()`.
"""

from __future__ import annotations

import socket
import socketserver
import threading


class SlowServer:
    def __init__(self, every: float = 0.25):
        self.every = every
        self.stopping = threading.Event()
        self.connections = 0
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                outer.connections += 1
                sock = self.request
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                path = head.split(b" ", 2)[1].decode() if head.count(b" ") >= 2 else "/"
                if path.startswith("/headers"):
                    outer._trickle(sock, b"HTTP/1.1 200 OK\r\nX-Slow: ", b"a")
                elif path.startswith("/body"):
                    outer._trickle(sock, b"HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\n"
                                         b"Content-Length: 100000\r\n\r\n<feed>", b" ")
                else:  # silent: hold the connection open, say nothing
                    outer.stopping.wait()

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _trickle(self, sock: socket.socket, start: bytes, byte: bytes) -> None:
        try:
            sock.sendall(start)
            while not self.stopping.wait(self.every):
                sock.sendall(byte)
        except OSError:  # the client gave up: what we want
            return

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
