"""The sign-in extension point: an account put on `g` by the (future) auth layer decides badge, name,
post-author mark and moderation on the server — the payload never does."""

import pytest
from flask import g, request

from confreres.names import name_index


@pytest.fixture
def signed_in(app, actions):
    """Accounts as issue 4 will create them; a test header stands in for the session token."""
    actions.sql(
        "INSERT INTO accounts (id, email, display_name, role, created) VALUES"
        " (1, 'anne@dr-a.test', 'Dr Anne A', 'author', '2024-01-01T00:00:00Z'),"
        " (2, 'pseudo@exemple.fr', 'Dr Pseudo', 'member', '2024-01-01T00:00:00Z'),"
        " (3, 'lecteur@exemple.fr', 'Un lecteur', 'member', '2024-01-01T00:00:00Z')"
    )
    for account_id, name in ((1, "Dr Anne A"), (2, "Dr Pseudo"), (3, "Un lecteur")):  # as set_display_name indexes them
        actions.sql("UPDATE accounts SET name_key = ?, name_words = ?, name_sig = ? WHERE id = ?",
                    (*name_index(name), account_id))
    actions.sql("INSERT INTO account_sites (account_id, site) VALUES (1, 'dr-a')")
    accounts = {
        "1": {"id": 1, "email": "anne@dr-a.test", "display_name": "Dr Anne A", "role": "author"},
        "2": {"id": 2, "email": "pseudo@exemple.fr", "display_name": "Dr Pseudo", "role": "member",
              "badge_level": "verified", "badge_specialty": "Psychiatrie"},
        "3": {"id": 3, "email": "lecteur@exemple.fr", "display_name": "Un lecteur", "role": "member"},
    }

    @app.before_request
    def load_account():
        account = accounts.get(request.headers.get("X-Test-Account", ""))
        if account:
            g.confreres_account = account

    return lambda account_id: {"X-Test-Account": str(account_id)}


def test_blog_author_gets_the_mark_and_is_published(actions, urls, signed_in):
    response = actions.post("Merci à tous", url=urls.POST_A, headers=signed_in(1), author="Quelqu'un d'autre")
    body = response.get_json()
    assert body["status"] == "approved"
    assert body["comment"]["author"]["is_post_author"] is True
    assert body["comment"]["author"]["name"] == "Dr Anne A"
    # on another blog's thread she is a reader like the others
    other = actions.post("Bravo", url=urls.POST_B, headers=signed_in(1)).get_json()
    assert other["comment"]["author"]["is_post_author"] is False


def test_verified_member_badge_is_recorded_at_posting_time(actions, urls, signed_in):
    body = actions.post("Avis de psychiatre", url=urls.POST_B, headers=signed_in(2)).get_json()
    assert body["comment"]["author"]["badge"] == {
        "level": "verified",
        "label": "Médecin vérifié · Psychiatrie",
        "title": "Inscription à l'Ordre des médecins vérifiée par le réseau Confrères",
    }
    raw = actions.thread(urls.POST_B).get_data(as_text=True)
    assert "pseudo@exemple.fr" not in raw and '"account' not in raw


def test_confreres_thread_accepts_only_verified_members(actions, urls, signed_in, api_error):
    api_error(actions.post("Je peux ?", url=urls.POST_CONFRERES, headers=signed_in(3)), 403, "confreres_only")
    assert actions.post("Entre nous", url=urls.POST_CONFRERES, headers=signed_in(2)).status_code == 201


def test_member_first_comment_policy_uses_the_account(actions, urls, signed_in):
    first = actions.post("Bonjour", url=urls.POST_A, headers=signed_in(3)).get_json()
    assert first["status"] == "pending"
    actions.approve(first["comment"]["id"])
    assert actions.post("Re-bonjour", url=urls.POST_A, headers=signed_in(3)).get_json()["status"] == "approved"
