"""Schemathesis against the OpenAPI document of a LIVE service (`<comments_url>api/openapi.json`).

A real gunicorn (two workers, as deploy/systemd runs it) on a free loopback port and a fresh SQLite file;
schemathesis reads the document over HTTP and calls every operation with a bounded number of generated
examples, valid and invalid: no answer is a 5xx, and every answer the document describes precisely (status,
content type, JSON body) matches it. Hypothesis runs derandomised, so the examples are the same on every run.
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from comments_service.core.db import connect
from comments_service.domain import accounts
from confreres.site_token import site_token
from tests.conftest import COMMENTS_URL, NETWORK_TOML, POST_A, POSTS, SECRET
from tests.gunicorn import Gunicorn, environment
from tests.smtp import free_port

MAX_EXAMPLES = 12  # per operation and mode (valid, invalid): the whole run stays well under a minute


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The live service, and `session()`: a new signed-in admin, author of dr-a (its bearer token)."""
    root = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    # The document's `servers` is the network's comments_url (schemathesis calls it): here, this live service.
    (root / "network.toml").write_text(NETWORK_TOML.replace(COMMENTS_URL, f"http://127.0.0.1:{port}/"), encoding="utf-8")
    db_path = root / "comments.sqlite3"
    env = environment(SECRET_KEY=SECRET, NETWORK=root / "network.toml", DB=db_path,
                      RATE_LIMIT="off", READ_RATE_LIMIT="off", POSTS_RATE_LIMIT="off", MAIL_SEND="cron")
    with Gunicorn(env, root / "gunicorn.log", port=port) as service:
        for slug, body in POSTS.items():
            response = httpx.put(f"{service.url}/api/sites/{slug}/posts", json=body,
                                 headers={"Authorization": f"Bearer {site_token(SECRET, slug)}"})
            assert response.status_code == 200, response.text
        db = connect(str(db_path))
        made = iter(range(1, 10**6))

        def session() -> str:
            email = f"admin-{next(made)}@blogs.test"
            row, _created = accounts.ensure_account(db, email, role="admin", sites=("dr-a",), display_name="Dr Admin")
            return accounts.create_session(db, row["id"], "bearer", 1)[0]

        service.session = session
        service.token = session()
        yield service
        db.close()
        assert "Traceback" not in service.output(), service.output()


# schemathesis's own list, and 413: an over-long body is refused before it is read (documented for every write)
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]


@pytest.fixture(scope="module")
def api_schema(live):
    config = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}})
    return schemathesis.openapi.from_url(f"{live.url}/api/openapi.json", config=config)


schema = schemathesis.pytest.from_fixture("api_schema")
SIGNS_OUT = {("POST", "/auth/signout"), ("DELETE", "/account")}  # they end the session they are called with


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error_or_off_its_document(case, live):
    """Signed in (an admin who writes on dr-a), so the operations behind a session are reached too;
    `ignored_auth` sends each of those again without it. Valid comments name a published post."""
    token = live.session() if (case.method.upper(), case.path) in SIGNS_OUT else live.token
    if (case.method.upper(), case.path) == ("POST", "/comments") and case.meta.generation.mode.is_positive \
            and isinstance(case.body, dict):
        case.body["url"] = POST_A
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                           checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                   response_headers_conformance, response_schema_conformance,
                                   negative_data_rejection, ignored_auth, missing_required_header,
                                   unsupported_method])
