"""The Content-Security-Policy of the blogs and the planet (the comment service sets its own).

Everything loads from the network's own origins only: the network URL's, each blog's, and the comment
service's (network.toml). Scripts are narrower still: only the theme's `theme/js/` folder of each blog
and of the planet, and Pagefind's `pagefind/` folder, so a file a doctor pushes under `content/files/`
cannot run as a script on the network's origin (where the widget's session lives). Pagefind compiles
its WebAssembly: 'wasm-unsafe-eval', which allows no JavaScript eval. No inline script or style anywhere
in the theme, so neither is allowed.

`confreres serve` sends it with every static file; `confreres csp` prints it for the production web
server (docs/operating.md), also inlined by `confreres deploy nginx`.
"""

from __future__ import annotations

from confreres.registry import Network, origin_of

THEME_JS = "theme/js/"
PAGEFIND = "pagefind/"


def _sources(values) -> str:
    return " ".join(dict.fromkeys(values))


def policy(network: Network) -> str:
    """The header's value for every page and file of the blogs and the planet."""
    origins = _sources(sorted(network.origins) + [origin_of(network.comments_url)])
    scripts = _sources([f"{site.url}{THEME_JS}" for site in network.sites]
                       + [f"{network.url}{THEME_JS}", f"{network.url}{PAGEFIND}"])
    return "; ".join([
        "default-src 'none'",
        f"script-src {scripts} 'wasm-unsafe-eval'",
        f"style-src {origins}",
        f"img-src {origins}",
        f"media-src {origins}",
        f"font-src {origins}",
        f"connect-src {origins}",
        f"form-action {origins}",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ])


def headers(network: Network) -> dict[str, str]:
    """The security headers the blogs and the planet are served with."""
    return {
        "Content-Security-Policy": policy(network),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


def nginx_lines(network: Network) -> list[str]:
    """The same headers as nginx `add_header` lines (`confreres csp --nginx`, deploy/nginx/confreres.conf)."""
    return [f'add_header {name} "{value}" always;' for name, value in headers(network).items()]
