"""CORS for the network's origins only, without credentials."""


def test_allowed_origin_gets_cors_headers(client, urls):
    response = client.get("/api/comments", query_string={"url": urls.POST_B}, headers={"Origin": "https://docteur-b.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://docteur-b.example"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_planet_origin_is_allowed(client, urls):
    response = client.get("/api/counts", query_string={"url": urls.POST_B}, headers={"Origin": "http://blogs.test"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://blogs.test"


def test_other_origin_gets_no_cors_headers(client, urls):
    response = client.get("/api/comments", query_string={"url": urls.POST_B}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]


def test_preflight_allowed(client):
    response = client.options(
        "/api/comments",
        headers={
            "Origin": "https://docteur-b.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://docteur-b.example"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "X-Edit-Token" in response.headers["Access-Control-Allow-Headers"]
    assert "X-Confreres-Tokens" in response.headers["Access-Control-Allow-Headers"]


def test_preflight_denied(client, api_error):
    response = client.options(
        "/api/comments/3", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE"}
    )
    api_error(response, 403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in response.headers


def test_error_responses_carry_cors_headers_too(client, api_error):
    response = client.post("/api/comments", json={"text": "x"}, headers={"Origin": "https://docteur-b.example"})
    api_error(response, 400)
    assert response.headers["Access-Control-Allow-Origin"] == "https://docteur-b.example"


def test_pages_have_no_cors(client, urls):
    response = client.get("/thread", query_string={"url": urls.POST_B}, headers={"Origin": "https://docteur-b.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
