"""The OpenAPI document describes every /api/ route and method."""

import re

import pytest

from tests.conftest import COMMENTS_URL


def test_every_api_rule_is_documented(app, client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix("/api"))
        path = path.replace("{comment_id}", "{id}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if method.lower() not in doc["paths"].get(path, {}):
                missing.append(f"{method} {path}")
    assert not missing, missing


def test_documented_paths_exist(app, client):
    doc = client.get("/api/openapi.json").get_json()
    rules = {re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", "{}", r.rule) for r in app.url_map.iter_rules()}
    for path in doc["paths"]:
        assert "/api" + re.sub(r"\{[a-z_]+\}", "{}", path) in rules, path


def test_refs_resolve(client):
    doc = client.get("/api/openapi.json").get_json()
    text = str(doc)
    for ref in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert ref in doc["components"]["schemas"], ref


def test_server_url_is_the_configured_comments_url(app):
    """Mounted under /comments (as `confreres serve` does) or not, the document names the network's comments_url."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.test import Client
    from werkzeug.wrappers import Response

    mounted = Client(DispatcherMiddleware(Response("root"), {"/comments": app}))
    response = mounted.get("/comments/api/openapi.json")
    assert response.json["servers"][0]["url"] == COMMENTS_URL + "api"


def test_a_forged_host_does_not_reach_the_server_url(client):
    """The URL came from the request's Host header: anyone could serve the document naming another origin."""
    for headers in ({"Host": "evil.example"}, {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}):
        response = client.get("/api/openapi.json", headers=headers)
        assert response.json["servers"] == [{"url": COMMENTS_URL + "api"}]
        assert "evil" not in response.get_data(as_text=True)


def test_fragments_import_only_common():
    """Each fragment stands alone: it imports `common`, never another fragment nor the assembler."""
    import ast
    from pathlib import Path

    from comments_service.web import openapi

    folder = Path(openapi.__file__).parent
    for name in ("comments", "accounts", "members", "verification", "common"):
        tree = ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        inside = {module for module in imported if module and module.startswith("comments_service")}
        assert inside <= ({"comments_service.web.openapi.common"} if name != "common" else set()), (name, inside)


def test_a_path_defined_by_two_fragments_is_refused():
    from comments_service.web.openapi import merge

    with pytest.raises(ValueError, match="/comments"):
        merge(({"/comments": {}}, {"/comments": {"get": {}}}))
