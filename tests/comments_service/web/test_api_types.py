"""A JSON value of the wrong type is a 400 with the API's error shape: never a 500, never read as a default.

Each case was found by the live schemathesis run (test_api_fuzz.py) once it called the API signed in.
"""

from __future__ import annotations

import pytest

from comments_service.core.db import connect
from comments_service.domain import accounts


@pytest.fixture
def admin(app):
    """Bearer headers of a network admin who is also an author of dr-a."""
    db = connect(app.config["DB"])
    try:
        row, _created = accounts.ensure_account(db, "admin@blogs.test", role="admin", sites=("dr-a",))
        token = accounts.create_session(db, row["id"], "bearer", 1)[0]
    finally:
        db.close()
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", ["/api/moderation/1", "/api/moderation/mentions/1"])
def test_a_moderation_action_that_is_not_a_string_is_refused(client, admin, api_error, path):
    api_error(client.post(path, json={"action": [None, None]}, headers=admin), 400, "invalid_choice", field="action")


def test_a_review_proof_that_is_not_a_string_is_refused(client, admin, api_error):
    response = client.post("/api/verification/9/review", json={"proof": [{}], "rpps": "10003456789", "reason": "vu"},
                           headers=admin)
    api_error(response, 400, "invalid_choice", field="proof")


@pytest.mark.parametrize("value", [0, 1, "on", "true"])
def test_profile_flags_are_json_booleans(client, admin, api_error, value):
    api_error(client.patch("/api/account", json={"public_profile": value}, headers=admin), 400, "invalid_type",
              field="public_profile")


def test_profile_texts_may_be_null_as_the_document_says(client, admin):
    response = client.patch("/api/account", json={"interests": None, "display_name": None}, headers=admin)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["account"]["interests"] == ""


def test_signing_out_everywhere_takes_a_boolean(client, admin, api_error):
    api_error(client.post("/api/auth/signout", json={"everywhere": {}}, headers=admin), 400, "invalid_type",
              field="everywhere")
    api_error(client.post("/api/auth/signout", json=["everywhere"], headers=admin), 400, "invalid_json")
    assert client.get("/api/account", headers=admin).status_code == 200, "the session was not ended"


def test_deleting_the_account_reads_its_comments_choice_strictly(client, admin, api_error):
    api_error(client.delete("/api/account", json={"comments": {}}, headers=admin), 400, "invalid_choice",
              field="comments")
    assert client.get("/api/account", headers=admin).status_code == 200, "the account was not deleted"
