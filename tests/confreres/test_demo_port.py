"""`confreres demo --port N` serves the demo network at that port: every link, the comment service's URL,
the answers between blogs and the sign-in links of the mails follow it, and network.toml stays as committed.

The real command runs in a copy of the demo network, on a free loopback port (never 8000).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tomllib
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import httpx

from confreres import registry

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = "127.0.0.1:8000"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CLI = str(Path(sys.executable).with_name("confreres"))


def _env(**extra) -> dict:
    # Mails wait in the outbox until `confreres notify send`, so the test reads them once written.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFRERES_")}
    return env | {"CONFRERES_MAIL_SEND": "cron"} | extra


def _start_demo(folder: Path, port: int) -> tuple[subprocess.Popen, list[str]]:
    env = _env()
    command = [CLI, "demo", "--port", str(port)]
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    lines = []
    for line in process.stdout:  # until the banner's last line: it listens, the snapshots are rebuilt
        lines.append(line)
        if line.strip().startswith("Commentaires"):
            return process, lines
    process.wait()
    raise AssertionError("the demo stopped before serving:\n" + "".join(lines))


def test_demo_on_another_port_moves_every_url_there(tmp_path):
    shutil.copy(ROOT / "network.toml", tmp_path / "network.toml")
    shutil.copytree(ROOT / "sites", tmp_path / "sites")
    committed = (tmp_path / "network.toml").read_bytes()
    assert COMMITTED in committed.decode()
    port = _free_port()
    here = f"127.0.0.1:{port}"
    process, banner = _start_demo(tmp_path, port)
    try:
        printed = "".join(banner)
        assert f"http://{here}/dr-lefebvre/" in printed and f"http://{here}/comments/dev/mail" in printed
        assert f"http://{here}/comments/moderation" in printed, "the banner's comment link opens a page"
        assert COMMITTED not in printed
        # The service listens before the first build: no « badges not shown » warning for a demo starting.
        assert "not shown" not in printed and "unavailable" not in printed

        # Nothing built points at the committed port: blogs, answers, planet, feeds, search index.
        public = tmp_path / "public"
        stale = [str(path.relative_to(public)) for path in public.rglob("*")
                 if path.is_file() and path.suffix in {".html", ".xml", ".json", ".opml", ".js"}
                 and COMMITTED in path.read_text(encoding="utf-8", errors="replace")]
        assert stale == []

        with httpx.Client(base_url=f"http://{here}", timeout=10) as client:
            answer = client.get("/dr-benali/epuisement-vu-du-divan.html")
            assert answer.status_code == 200
            assert f'http://{here}/comments/' in answer.text
            assert f'href="http://{here}/dr-lefebvre/epuisement-en-zone-rurale.html"' in answer.text
            assert f'<http://{here}/comments/webmention>; rel="webmention"' in answer.headers["Link"]
            # Every page's browser asks for /favicon.ico: the planet puts the network's icon there (no 404 in
            # the console of every blog page).
            icon = client.get("/favicon.ico")
            assert icon.status_code == 200 and icon.content.startswith(b"\x00\x00\x01\x00")

            # The answered thread lists the answer and carries the demo's seeded comments.
            answered = f"http://{here}/dr-lefebvre/epuisement-en-zone-rurale.html"
            thread = client.get("/comments/api/comments", params={"url": answered}).json()
            assert thread["total"] > 0
            assert [a["url"] for a in thread["answers"]] == [f"http://{here}/dr-benali/epuisement-vu-du-divan.html"]
            assert thread["answers"][0]["author"]["badge"]["level"] == "verified"

            # The blog's page may call the service (CORS), and the magic link brings the reader back here.
            sent = client.post("/comments/api/auth/request", json={"email": "nouvelle@exemple.fr", "return": answered},
                               headers={"Origin": f"http://{here}"})
            assert sent.status_code == 202, sent.text
            assert sent.headers["Access-Control-Allow-Origin"] == f"http://{here}"
        # Another terminal reaches the moved demo's database with the one variable the README gives.
        subprocess.run([CLI, "notify", "send"], cwd=tmp_path, check=True, capture_output=True,
                       env=_env(CONFRERES_DEMO_ORIGIN=f"http://{here}",
                                CONFRERES_MAIL_DIR=str(tmp_path / "var" / "mail")))
        mails = [message_from_bytes(p.read_bytes(), policy=email_policy) for p in (tmp_path / "var" / "mail").glob("*.eml")]
        signin = [m for m in mails if m["To"] == "nouvelle@exemple.fr"]
        assert len(signin) == 1
        body = signin[0].get_body(preferencelist=("plain",)).get_content()
        assert f"http://{here}/comments/" in body and COMMITTED not in body
    finally:
        process.terminate()
        process.wait()
    assert (tmp_path / "network.toml").read_bytes() == committed


def test_moving_the_network_leaves_other_origins_alone(tmp_path, monkeypatch):
    (tmp_path / "network.toml").write_text(
        """
[network]
name = "R"
url = "http://127.0.0.1:8000/"
comments_url = "http://127.0.0.1:8000/comments/"

[[sites]]
slug = "dr-a"
title = "A"
author = "Dr A"
url = "http://127.0.0.1:8000/dr-a/"

[[sites]]
slug = "dr-b"
title = "B"
author = "Dr B"
url = "https://dr-b.example/"

[[feeds]]
url = "https://ailleurs.example/feed.xml"
title = "Ailleurs"
""",
        encoding="utf-8",
    )
    assert registry.load(tmp_path / "network.toml").moved_from == ""
    monkeypatch.setenv(registry.ENV_ORIGIN, "http://127.0.0.1:8000")  # make demo on the committed port
    assert registry.load(tmp_path / "network.toml") == registry.parse(
        tomllib.loads((tmp_path / "network.toml").read_text(encoding="utf-8")), root=tmp_path,
        source=tmp_path / "network.toml")
    monkeypatch.setenv(registry.ENV_ORIGIN, "http://127.0.0.1:8010")
    network = registry.load(tmp_path / "network.toml")
    assert network.moved_from == "http://127.0.0.1:8000"
    assert (network.url, network.comments_url) == ("http://127.0.0.1:8010/", "http://127.0.0.1:8010/comments/")
    assert [s.url for s in network.sites] == ["http://127.0.0.1:8010/dr-a/", "https://dr-b.example/"]
    assert [f.url for f in network.feeds] == ["https://ailleurs.example/feed.xml"]
    assert network.origins == {"http://127.0.0.1:8010", "https://dr-b.example"}
