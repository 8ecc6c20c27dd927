"""The comment write path at scale (issue 14): the duplicate check is an index lookup, not a scan of the thread."""

from comments_service.core.db import connect
from comments_service.domain import comments as store


def _plan(db, sql: str, params: tuple) -> str:
    return " ".join(str(row) for row in db.execute("EXPLAIN QUERY PLAN " + sql, params))


def test_duplicate_check_uses_its_index(app):
    db = connect(app.config["DB"])
    try:
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "comments_duplicate" in indexes
        params = ("https://blog/billet.html", "texte", "2026-01-01T00:00:00Z", "ip", "ip", "a@b.fr", "a@b.fr")
        plan = _plan(db, store.DUPLICATE_SQL, params)
        assert "comments_duplicate (text=? AND post_url=?)" in plan, plan
    finally:
        db.close()


def test_duplicate_refused_on_a_long_thread(actions, urls, api_error):
    """Among hundreds of comments of the same writer on one thread, the one repeated is still found."""
    for n in range(300):
        actions.comment(f"Commentaire {n} sur les gardes", url=urls.POST_B)
    api_error(actions.post("Commentaire 123 sur les gardes", url=urls.POST_B), 409, "duplicate", "text")
    actions.comment("Commentaire 123 sur les gardes", url=urls.POST_A)  # another thread: fine
