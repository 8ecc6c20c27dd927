"""`confreres admin remove-site EMAIL SLUG`: an account stops being an author of a blog without editing the database.
Its other blogs and its role stay; it hears nothing more of that blog (notices waiting for its digest dropped)."""

from __future__ import annotations

ANNE = "anne@dr-a.test"


def sites(actions, email=ANNE):
    return [row[0] for row in actions.sql(
        "SELECT s.site FROM account_sites s JOIN accounts a ON a.id = s.account_id WHERE a.email = ? ORDER BY s.site",
        (email,))]


def test_an_author_is_removed_from_one_blog(actions, confreres, urls):
    actions.make_account(ANNE, role="author", sites=["dr-a", "dr-b"], name="Dr Anne A")
    actions.sql("UPDATE accounts SET notify_comments = 'daily'")
    actions.comment("En attente du résumé", url=urls.POST_A)
    assert len(actions.sql("SELECT * FROM author_notices WHERE queued IS NULL")) == 1

    result = confreres("admin", "remove-site", ANNE, "dr-a")
    assert result.exit_code == 0, result.output
    assert "n'est plus auteur de dr-a ; reste auteur de dr-b (rôle inchangé : author)" in result.output
    assert sites(actions) == ["dr-b"]
    assert "[dr-b]" in confreres("admin", "list").output
    assert not actions.sql("SELECT * FROM author_notices"), "its digest tells nothing more of dr-a"

    actions.comment("Après", url=urls.POST_A)
    assert not actions.sql("SELECT * FROM author_notices"), "a new comment on dr-a is not told to Anne"
    actions.comment("Sur B", url=urls.POST_B)
    assert len(actions.sql("SELECT * FROM author_notices")) == 1, "dr-b still is hers"

    last = confreres("admin", "remove-site", ANNE, "dr-b")
    assert last.exit_code == 0 and "n'est plus auteur d'aucun blog" in last.output
    assert sites(actions) == []


def test_unknown_account_blog_or_link_is_refused_in_french(actions, confreres):
    actions.make_account(ANNE, role="author", sites=["dr-b"])
    nobody = confreres("admin", "remove-site", "personne@exemple.fr", "dr-a")
    assert nobody.exit_code == 1 and "aucun compte pour personne@exemple.fr" in nobody.output
    unknown = confreres("admin", "remove-site", ANNE, "dr-z")
    assert unknown.exit_code == 1 and "aucun blog « dr-z » dans le réseau" in unknown.output
    not_hers = confreres("admin", "remove-site", ANNE, "dr-a")
    assert not_hers.exit_code == 1 and "n'est pas auteur du blog « dr-a » : rien n'a changé" in not_hers.output
    assert sites(actions) == ["dr-b"]


def test_a_blog_gone_from_network_toml_can_still_be_removed(actions, confreres):
    """A blog taken out of network.toml keeps its authors' links in the database: they can be removed too."""
    anne = actions.make_account(ANNE, role="author", sites=["dr-b"])
    actions.sql("INSERT INTO account_sites (account_id, site) VALUES (?, 'ancien-blog')", (anne["id"],))
    result = confreres("admin", "remove-site", ANNE, "ancien-blog")
    assert result.exit_code == 0, result.output
    assert sites(actions) == ["dr-b"]
