"""NO_SERVICE, the comment service of test networks that serve none, refuses every call.

Test networks' sites live on http://127.0.0.1:8000/, where a developer's `make demo` may answer;
their comment service must not be that demo's, nor anything else that could listen.
"""

from __future__ import annotations

import httpx
import pytest

from tests.confreres.conftest import NO_SERVICE


def test_no_service_refuses_the_connection():
    with pytest.raises(httpx.ConnectError):
        httpx.get(NO_SERVICE + "api/sites", timeout=10)


def test_made_networks_ask_no_service_unless_told(make_network):
    network = make_network(slugs=("dr-a",), posts=1)
    assert network.comments_url == NO_SERVICE
    assert network.site("dr-a").url == "http://127.0.0.1:8000/dr-a/", "the sites keep the URLs the tests assert"
