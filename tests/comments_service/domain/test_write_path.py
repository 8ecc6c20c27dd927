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
        assert "comments_duplicate (text_key=? AND post_url=?)" in plan, plan
    finally:
        db.close()


def test_duplicate_refused_on_a_long_thread(actions, urls, api_error):
    """Among hundreds of comments of the same writer on one thread, the one repeated is still found."""
    for n in range(300):
        actions.comment(f"Commentaire {n} sur les gardes", url=urls.POST_B)
    api_error(actions.post("Commentaire 123 sur les gardes", url=urls.POST_B), 409, "duplicate", "text")
    actions.comment("Commentaire 123 sur les gardes", url=urls.POST_A)  # another thread: fine


def test_what_reads_the_same_is_the_same_comment(actions, urls, api_error):
    """The check compares what a reader sees: invisible or equivalent variants of a text sent again are refused."""
    actions.comment("Merci pour ce billet très éclairant, confrère.", url=urls.POST_B)
    for variant in [
        "Merci  pour ce billet très éclairant, confrère.",  # two spaces
        "Merci\tpour ce billet très éclairant, confrère.",
        "Merci pour ce billet tre\u0300s e\u0301clairant, confrère.",  # decomposed accents (NFD)
        "Merci pour ce\u2060 billet très éclairant, confrère.",  # word joiner
        "\ufeffMerci pour ce billet très éclairant, confrère.",
        "Merci pour ce bil\u00adlet très éclairant, confrère.",  # soft hyphen
        "Merci pour ce\u00a0billet très éclairant, confrère.",  # no-break space
        "Merci pour ce billet tr&egrave;s &eacute;clairant, confr&egrave;re.",
        "Merci pour ce billet très éclairant, confrère\\.",  # a Markdown escape
        "MERCI pour ce billet très éclairant, confrère.",
    ]:
        api_error(actions.post(variant, url=urls.POST_B), 409, "duplicate", "text")
    actions.comment("Merci pour ce billet très éclairant, consœur.", url=urls.POST_B)  # another text
    actions.comment("Voir [ici](https://has-sante.fr/a).", url=urls.POST_B)
    actions.comment("Voir [ici](https://has-sante.fr/b).", url=urls.POST_B)  # the same words, another link
