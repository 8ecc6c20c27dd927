"""Schemathesis against the service's own OpenAPI document (`<comments_url>api/openapi.json`).

A real app on a fresh SQLite file, called in process (WSGI), every operation of the document with a
bounded number of generated examples, valid and invalid: no answer is a 5xx, and every answer the
document describes precisely (status, JSON body) matches it. Hypothesis runs derandomised, so the
examples are the same on every run.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from comments_service import create_app
from tests.conftest import NETWORK_TOML, POSTS, SECRET

MAX_EXAMPLES = 12  # per operation and mode (valid, invalid): the whole run stays well under a minute


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "network.toml").write_text(NETWORK_TOML, encoding="utf-8")
    app = create_app({
        "TESTING": False, "DEBUG": False, "PROPAGATE_EXCEPTIONS": False,  # a crash answers 500, as in production
        "SECRET_KEY": SECRET, "NETWORK": str(root / "network.toml"), "DB": str(root / "comments.sqlite3"),
        "RATE_LIMIT": "off", "READ_RATE_LIMIT": "off", "POSTS_RATE_LIMIT": "off", "MAIL_SEND": "cron",
    })
    client = app.test_client()
    from confreres.site_token import site_token

    for slug, body in POSTS.items():
        response = client.put(f"/api/sites/{slug}/posts", json=body,
                              headers={"Authorization": f"Bearer {site_token(SECRET, slug)}"})
        assert response.status_code == 200, response.get_data(as_text=True)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error_or_off_its_document(case):
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                   response_schema_conformance, negative_data_rejection,
                                   ignored_auth, missing_required_header, unsupported_method])
