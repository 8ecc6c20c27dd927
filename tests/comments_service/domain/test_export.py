"""`confreres export comments` (public fields only unless --private) and `confreres backup` (online backup)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from comments_service.core.db import connect
from comments_service.domain import comments as store
from comments_service.domain import validate
from comments_service.domain.export import backup, table_counts
from comments_service.domain.posts import get_post
from confreres.cli import cli

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def run_cli(app, network_file, monkeypatch):
    monkeypatch.setenv("CONFRERES_DB", app.config["DB"])
    monkeypatch.setenv("CONFRERES_SECRET_KEY", "test-secret-key")
    monkeypatch.setenv("CONFRERES_NETWORK", str(network_file))

    def run(*args):
        return CliRunner().invoke(cli, ["--network", str(network_file), *args])

    return run


@pytest.fixture
def filled(actions, urls):
    """Threads on both blogs: approved, pending, a reply, a removed parent, with e-mails everywhere."""
    first = actions.approved_comment("Premier avis", author="Claire", email="claire.secret@example.org",
                                     website="https://claire.example/")
    reply = actions.reply(first, "Réponse", author="Marc", email="marc.prive@example.net")
    actions.approve(reply["comment"]["id"])
    actions.comment("En attente de modération", author="Paul", email="paul.attente@example.com")
    gone = actions.approved_comment("Sera supprimé", url=urls.POST_A2, email="zoe.efface@example.org")
    under = actions.comment("Réponse au supprimé", url=urls.POST_A2, parent=gone["comment"]["id"],
                            email="yann@example.org")
    actions.approve(under["comment"]["id"])
    store.remove_comment(connect(actions.app.config["DB"]), gone["comment"]["id"])
    actions.comment("Sur le blog B", url=urls.POST_B, author="Béa", email="bea@example.fr")
    actions.sql("UPDATE comments SET ip_hash = 'deadbeefcafe'")
    return actions


def every_email(actions) -> set[str]:
    return {r["email"] for r in actions.sql("SELECT DISTINCT email FROM comments WHERE email IS NOT NULL")}


def test_public_export_has_threads_and_no_private_field(filled, run_cli, urls):
    result = run_cli("export", "comments")
    assert result.exit_code == 0, result.output
    out = result.stdout
    emails = every_email(filled)
    assert len(emails) >= 5
    for email in emails:
        assert email not in out, email
        assert email.split("@")[0] not in out
    for secret in ("deadbeefcafe", "ip_hash", "account_id", "edit_nonce", '"email"', "En attente de modération"):
        assert secret not in out, secret
    doc = json.loads(out)
    assert doc["format"] == "confreres-comments" and doc["private"] is False
    threads = {t["url"]: t for t in doc["threads"]}
    assert set(threads) == {urls.POST_A, urls.POST_A2, urls.POST_B}
    [first] = threads[urls.POST_A]["comments"]
    assert first["author"]["name"] == "Claire" and first["author"]["website"] == "https://claire.example/"
    assert first["replies"][0]["author"]["name"] == "Marc"
    # the removed comment keeps the thread's shape as a placeholder, as in the API
    [placeholder] = threads[urls.POST_A2]["comments"]
    assert placeholder["deleted"] is True and placeholder["html"] == "" and placeholder["replies"]
    assert threads[urls.POST_A]["total"] == 2


def test_public_export_links_public_profiles_as_the_api_does_and_nothing_more(app, client, actions, run_cli, urls):
    """`author.profile` (<comments_url>membres/<handle>) for members whose profile is public, as in the API;
    none for a hidden profile or a guest, and no hidden handle, account id or e-mail anywhere."""
    from tests.comments_service.verification_kit import Kit

    kit = Kit(app, client)
    shown = kit.member(email="visible.secret@example.org", display_name="Dr Visible")
    hidden = kit.member(email="cache.secret@example.org", display_name="Dr Discret")
    assert client.patch("/api/account", json={"public_profile": False}, headers=hidden.headers).status_code == 200
    first = client.post("/api/comments", json={"url": urls.POST_B, "text": "Profil public."}, headers=shown.headers)
    reply = {"url": urls.POST_B, "text": "Profil caché.", "parent": first.get_json()["comment"]["id"]}
    assert client.post("/api/comments", json=reply, headers=hidden.headers).status_code == 201
    actions.comment("Un invité.", url=urls.POST_B, author="Invité", email="invite.secret@example.org")
    handles = {r["email"]: r["public_id"] for r in actions.sql("SELECT email, public_id FROM accounts")}

    result = run_cli("export", "comments", "--site", "dr-b")
    assert result.exit_code == 0, result.output
    (thread,) = json.loads(result.stdout)["threads"]
    api = client.get("/api/comments", query_string={"url": urls.POST_B}).get_json()
    assert thread["comments"] == api["comments"], "the export shows the threads exactly as the API"
    visible, guest = thread["comments"]
    assert visible["author"]["profile"] == f"http://blogs.test/comments/membres/{handles['visible.secret@example.org']}"
    assert "profile" not in visible["replies"][0]["author"] and "profile" not in guest["author"]
    for secret in (handles["cache.secret@example.org"], "secret@example.org", "account_id", '"email"'):
        assert secret not in result.stdout, secret

    private = run_cli("export", "comments", "--site", "dr-b", "--private")
    (private_thread,) = json.loads(private.stdout)["threads"]
    assert private_thread["comments"][0]["author"]["profile"] == visible["author"]["profile"]
    assert handles["cache.secret@example.org"] not in private.stdout


def test_export_one_site_to_a_file(filled, run_cli, tmp_path, urls):
    out = tmp_path / "dr-b.json"
    result = run_cli("export", "comments", "--site", "dr-b", "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [t["url"] for t in doc["threads"]] == [urls.POST_B] and doc["site"] == "dr-b"
    assert "bea@example.fr" not in out.read_text(encoding="utf-8")
    assert run_cli("export", "comments", "--site", "dr-z").exit_code != 0


def test_private_export_has_emails_every_status_and_a_warning(filled, run_cli, tmp_path):
    out = tmp_path / "backup.json"
    result = run_cli("export", "comments", "--private", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "e-mail" in result.stderr and "RGPD" in result.stderr
    text = out.read_text(encoding="utf-8")
    for email in every_email(filled):
        assert email in text
    assert "deadbeefcafe" not in text and "edit_nonce" not in text and "account_id" not in text
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doc = json.loads(text)
    statuses = set()

    def walk(nodes):
        for node in nodes:
            statuses.add(node["status"])
            walk(node["replies"])

    for thread in doc["threads"]:
        walk(thread["comments"])
    assert statuses == {"approved", "pending", "deleted"}
    assert any(n["text"] == "En attente de modération" for t in doc["threads"] for n in t["comments"])


# -- backup ------------------------------------------------------------------------------------------

def test_backup_command_prints_size_counts_and_the_copy_matches(filled, run_cli, tmp_path, app):
    dest = tmp_path / "save" / "comments.sqlite3"
    result = run_cli("backup", str(dest))
    assert result.exit_code == 0, result.output
    assert "intégrité ok" in result.output and "Kio" in result.output and "approved" not in result.output
    source = sqlite3.connect(app.config["DB"])
    copy = sqlite3.connect(dest)
    try:
        assert table_counts(copy) == table_counts(source)
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts, _ = table_counts(copy)
        assert f"{counts['comments']} commentaires" in result.output
    finally:
        source.close()
        copy.close()
    again = run_cli("backup", str(dest))
    assert again.exit_code != 0 and "existe déjà" in again.output
    assert run_cli("backup", str(dest), "--force").exit_code == 0
    folder = run_cli("backup", str(tmp_path))  # a folder: a dated file inside
    assert folder.exit_code == 0 and "comments-" in folder.output


def test_backup_while_another_connection_writes(app, urls, tmp_path):
    network = app.extensions["confreres_network"]
    stop = threading.Event()
    written: list[int] = []
    failures: list[BaseException] = []

    def writer():
        db = connect(app.config["DB"])  # its own connection, in its own thread
        try:
            post = get_post(db, urls.POST_B)
            n = 0
            while not stop.is_set():
                n += 1
                data = validate.comment({"url": urls.POST_B, "text": f"Commentaire {n} " + "x" * 500,
                                         "email": f"lecteur{n}@example.org"})
                row, _ = store.add_comment(db, network, post, data)
                written.append(row["id"])
        except BaseException as exc:  # reported by the test below
            failures.append(exc)
        finally:
            db.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(written) < 50 and not failures and time.monotonic() < deadline:
            time.sleep(0.01)
        results = [backup(app.config["DB"], tmp_path / f"copy{i}.sqlite3") for i in range(3)]
        during = len(written)
    finally:
        stop.set()
        thread.join(30)
    assert not failures, failures
    assert during >= 50
    source = sqlite3.connect(app.config["DB"])
    try:
        final = source.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
        for result in results:
            copy = sqlite3.connect(result.path)
            try:
                assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                n = copy.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
                assert 50 <= n <= final and result.counts["comments"] == n
                # a consistent snapshot: every copied comment is whole, ids have no gap
                ids = [r[0] for r in copy.execute("SELECT id FROM comments ORDER BY id")]
                assert ids == list(range(ids[0], ids[0] + len(ids)))
                for cid, text in copy.execute("SELECT id, text FROM comments"):
                    assert source.execute("SELECT text FROM comments WHERE id = ?", (cid,)).fetchone()[0] == text
            finally:
                copy.close()
    finally:
        source.close()
    assert final == len(written)


class _WriterMeanwhile:
    """A text stream for write_export that, once the first thread is written, lets `meanwhile()` write to the
    database through the service (another connection), as the live service does while an export runs."""

    def __init__(self, meanwhile):
        self.parts: list[str] = []
        self.meanwhile = meanwhile

    def write(self, text: str) -> None:
        self.parts.append(text)
        if self.meanwhile is not None and text.startswith(",\n"):  # the second thread begins: the first is out
            self.meanwhile, run = None, self.meanwhile
            run()


def test_the_export_is_one_snapshot_whatever_is_written_meanwhile(app, actions, urls):
    from comments_service.domain.export import write_export

    actions.approved_comment("Sur le premier billet", url=urls.POST_A)
    actions.approved_comment("Sur le second billet", url=urls.POST_A2)
    early = actions.comment("Sur le blog B, avant l'export", url=urls.POST_B)
    network = app.extensions["confreres_network"]

    def meanwhile():  # the threads of blog B are exported after those of blog A
        actions.comment("Sur le blog B, pendant l'export", url=urls.POST_B)
        actions.delete(early["comment"]["id"], early["edit_token"])

    out = _WriterMeanwhile(meanwhile)
    db = connect(app.config["DB"])
    try:
        counts = write_export(db, network, out)
        assert not db.conn.in_transaction
    finally:
        db.close()
    assert out.meanwhile is None, "the writes happened during the export"
    document = json.loads("".join(out.parts))
    texts = {thread["url"]: [c["html"] for c in thread["comments"]] for thread in document["threads"]}
    assert texts[urls.POST_B] == ["<p>Sur le blog B, avant l'export</p>"], "the database as the export began"
    assert counts == {"threads": 3, "comments": 3}
    assert actions.counts(urls.POST_B).get_json() == {urls.POST_B: 1}, "the service wrote meanwhile"


def synced_around_rename(tmp_path, app, network_file, dest: Path, *args: str) -> tuple[str, set, set]:
    """Run the real `confreres ARGS...` under strace: (the temporary name renamed to `dest`, the paths fsynced before
    that rename, those fsynced after it)."""
    trace = tmp_path / "strace.txt"
    env = {**os.environ, "CONFRERES_DB": app.config["DB"], "CONFRERES_SECRET_KEY": "test-secret-key",
           "CONFRERES_NETWORK": str(network_file), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=openat,fsync,fdatasync,rename,renameat,renameat2", "-o", str(trace),
         sys.executable, "-c", "from confreres.cli import cli; cli()", "--network", str(network_file), *args],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    calls = [line.split(None, 1)[1] if line.split(None, 1)[0].isdigit() else line
             for line in trace.read_text().splitlines()]
    renamed = [i for i, call in enumerate(calls) if call.startswith("rename") and f'"{dest}"' in call]
    assert len(renamed) == 1, calls
    opened = {}  # fd -> path, as the calls go
    synced_before, synced_after = set(), set()
    for i, call in enumerate(calls):
        if call.startswith("openat(") and " = " in call and not call.rstrip().endswith(")"):
            fd = call.rsplit(" = ", 1)[1].split()[0]
            if fd.isdigit():
                opened[fd] = call.split('"')[1]
        elif call.startswith(("fsync(", "fdatasync(")):
            path = opened.get(call.split("(", 1)[1].split(")", 1)[0])
            (synced_before if i < renamed[0] else synced_after).add(path)
    return calls[renamed[0]].split('"')[1], synced_before, synced_after


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace to see the system calls")
def test_backup_is_durable_its_file_and_its_rename_fsynced(filled, app, network_file, tmp_path):
    """What the kernel is asked, seen by strace on the real command: the copy is fsynced before its rename into place,
    and the folder after it (else a crash right after the command could lose the rename, leaving no backup)."""
    folder = tmp_path / "sauvegardes"
    folder.mkdir()
    dest = folder / "copie.sqlite3"
    tmp_name, synced_before, synced_after = synced_around_rename(tmp_path, app, network_file, dest, "backup", str(dest))
    assert tmp_name in synced_before, "the copy's bytes are on disk before it is renamed"
    assert str(folder) in synced_after, "the rename is made durable by an fsync of the folder"
    assert dest.is_file()


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace to see the system calls")
@pytest.mark.parametrize("private", [False, True])
def test_export_to_a_file_is_durable_its_file_and_its_rename_fsynced(filled, app, network_file, tmp_path, private):
    """`confreres export comments --out FILE`, as the backup: the file is fsynced before its rename into place, and
    its folder after it (else a crash right after the command could leave an empty FILE, or none)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    dest = folder / "commentaires.json"
    args = ["export", "comments", "--out", str(dest)] + (["--private"] if private else [])
    tmp_name, synced_before, synced_after = synced_around_rename(tmp_path, app, network_file, dest, *args)
    assert tmp_name in synced_before, "the file's bytes are on disk before it is renamed"
    assert str(folder) in synced_after, "the rename is made durable by an fsync of the folder"
    assert json.loads(dest.read_text(encoding="utf-8"))
