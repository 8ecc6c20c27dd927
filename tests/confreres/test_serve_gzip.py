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


def test_links_out_of_the_output_are_never_followed_and_odd_requests_are_not_500s(make_network):
    """The network's own links (a blog to its release) are served; one to /etc or to var/ is not; a name longer
    than the system's and a range past the file answer 404 and 416, not a 500."""
    network = make_network(slugs=("dr-a",), posts=1)
    out = network.output
    release = out / ".releases" / "dr-a-1-2"
    (release / "images").mkdir(parents=True)
    (release / "index.html").write_text("<p>Blog</p>", encoding="utf-8")
    (out / "dr-a").symlink_to(".releases/dr-a-1-2")
    secret = network.root / "var" / "secret_key"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("cle-du-reseau", encoding="utf-8")
    (release / "images" / "cle.txt").symlink_to(secret)
    (release / "images" / "var").symlink_to(secret.parent)
    client = Client(serve.make_app(network, out))
    assert client.get("/dr-a/").status_code == 200
    for path in ("/dr-a/images/cle.txt", "/dr-a/images/var/secret_key", "/dr-a/" + "n" * 300 + ".html"):
        response = client.get(path)
        assert response.status_code == 404 and b"cle-du-reseau" not in response.get_data(), path
    assert client.get("/dr-a/index.html", headers={"Range": "bytes=999999-"}).status_code == 416
    assert client.get("/dr-a/index.html", headers={"Range": "bytes=0-1,3-4"}).status_code in (200, 206, 416)


def test_the_not_found_page_is_laid_out_for_phones(make_network):
    """Without a viewport meta a phone laid the 404 out 980 px wide, its text tiny (tests/e2e/test_responsive.py
    opens it at 320 px); the shipped nginx site answers the same page (confreres.deploy)."""
    network = make_network(slugs=("dr-a",), posts=1)
    network.output.mkdir(parents=True, exist_ok=True)
    response = Client(serve.make_app(network, network.output)).get("/nulle-part.html")
    assert response.status_code == 404
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in response.get_data(as_text=True)
