"""Per-site secret the build uses to tell the comment service which posts a blog has.

Derived from the service's secret key, so a deployment configures one secret; a build host
elsewhere gets only its own site's token (`confreres site-token SLUG`). A leaf module.
"""

from __future__ import annotations

import hashlib
import hmac


def site_token(secret_key: str, slug: str) -> str:
    return hmac.new(secret_key.encode(), b"confreres-site:" + slug.encode(), hashlib.sha256).hexdigest()


def check_site_token(secret_key: str, slug: str, token: str) -> bool:
    return hmac.compare_digest(site_token(secret_key, slug), token or "")
