"""The links /api/verification and the verification page hand out are built from the configured `comments_url`,
as every other link of the service, never from the request's Host header: a vouching link is shared with
confrères, and one built from a forged Host would send them, and the candidate's token, to another site."""

from __future__ import annotations

from tests.comments_service.domain.test_verification import declared, kit  # noqa: F401  (kit: a fixture)
from tests.conftest import COMMENTS_URL

FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


def test_the_vouching_link_ignores_the_host_header(kit):  # noqa: F811
    candidate = declared(kit)
    token = kit.vouch_token(candidate)
    response = kit.client.get("/api/verification", headers={**candidate.headers, **FORGED})
    assert response.status_code == 200, response.get_data(as_text=True)
    links = response.get_json()["links"]
    assert links["vouch"] == f"{COMMENTS_URL}verification/parrainer/{token}"
    assert links["page"] == f"{COMMENTS_URL}verification"
    assert "evil.example" not in response.get_data(as_text=True)
