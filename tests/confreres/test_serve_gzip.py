"""The demo server serves the output as the shipped nginx site does: compressed text, no hidden folder."""

from __future__ import annotations

import gzip

from werkzeug.test import Client

from confreres import serve


def test_text_is_gzipped_for_clients_that_ask_and_conditional_get_still_answers_304(make_network):
    network = make_network(slugs=("dr-a",), posts=1)
    network.output.mkdir(parents=True, exist_ok=True)
    page = "<!doctype html><title>x</title>" + "<p>Billet de consultation.</p>" * 200
    (network.output / "index.html").write_text(page, encoding="utf-8")
    (network.output / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))
    client = Client(serve.make_app(network, network.output))

    plain = client.get("/")
    assert "Content-Encoding" not in plain.headers and plain.get_data(as_text=True) == page
    zipped = client.get("/", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.get_data()).decode() == page
    assert int(zipped.headers["Content-Length"]) < len(page.encode()) / 5
    etag = zipped.headers["ETag"]
    assert etag.startswith("W/")
    again = client.get("/", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304
    assert "Content-Encoding" not in client.get("/photo.png", headers={"Accept-Encoding": "gzip"}).headers
    ranged = client.get("/", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
    assert ranged.status_code == 206 and "Content-Encoding" not in ranged.headers


def test_dot_folders_and_files_are_never_served_but_well_known_is(make_network):
    network = make_network(slugs=("dr-a",), posts=1)
    out = network.output
    for relative in (".releases/dr-a-1-2/supprime.html", ".planet/index.html", "dr-a/.confreres-build.json",
                     ".well-known/security.txt"):
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_text("x", encoding="utf-8")
    client = Client(serve.make_app(network, out))
    for path in ("/.releases/dr-a-1-2/supprime.html", "/.releases/", "/.planet/index.html",
                 "/dr-a/.confreres-build.json", "/dr-a/%2Econfreres-build.json"):
        assert client.get(path).status_code == 404, path
    assert client.get("/.well-known/security.txt").status_code == 200
