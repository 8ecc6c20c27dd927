"""Sending Webmentions (W3C Recommendation) after a blog is built or published.

For each post whose outgoing links or content changed since the last send, every link of its
content (and its `u-in-reply-to`) that leaves the network is told: discover the target's endpoint
(the first HTTP `Link: <...>; rel="webmention"` header, else the first `<link>` or `<a>` with
rel="webmention" in the HTML, its query string kept, resolved against the final URL after
redirects; an empty href is the page itself), then POST `source` and `target`, form-encoded.
Links dropped by an update and the links of a deleted post are sent too, so their receivers
re-check the source and see the link (or the post) gone.

State per blog: `<network root>/.cache/webmention/<slug>.json` = {url: {"links", "hash", "retry"}};
a send that failed for a transient reason is retried on the next build. Requests go through
`confreres.safe_http` (no private addresses unless allow-listed, timeouts, redirect and size caps).
Sending never fails a build: it prints a one-line summary. Enabled by `webmention_send = true`
in network.toml's [policies]. Never imports the comment service.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from confreres.registry import Network, Site
from confreres.safe_http import FetchError, Guard

STATE_DIR = ("webmention",)  # under <network root>/.cache/
REPLY_CLASSES = ("u-in-reply-to", "u-like-of", "u-repost-of", "u-bookmark-of")
MAX_WORKERS = 8
HTML_TYPES = ("text/html", "application/xhtml+xml")

_LINK_PARAM = re.compile(r';\s*([^\s=;]+)\s*(?:=\s*("[^"]*"|[^;]*))?')


# -- discovery ---------------------------------------------------------------------------------

def link_header_endpoints(values: list[str], base: str) -> list[str]:
    """Webmention endpoints of `Link` header values, in order, resolved against `base`."""
    found = []
    for value in values:
        for url, params in _link_values(value):
            for name, raw in _LINK_PARAM.findall(params):
                if name.lower() == "rel" and "webmention" in raw.strip().strip('"').lower().split():
                    found.append(urljoin(base, url.strip()))
                    break
    return found


def _link_values(value: str):
    """(URI reference, parameters) of each link of one `Link` header value (RFC 8288)."""
    i = 0
    while True:
        start = value.find("<", i)
        end = value.find(">", start + 1) if start >= 0 else -1
        if end < 0:
            return
        params, i, quoted = [], end + 1, False
        while i < len(value) and (quoted or value[i] != ","):
            quoted ^= value[i] == '"'
            params.append(value[i])
            i += 1
        yield value[start + 1 : end], "".join(params)


def html_endpoint(html: str, base: str) -> str | None:
    """The first `<link>` or `<a>` with rel="webmention" and an href (empty: the page itself)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    base_tag = soup.find("base", href=True)
    if base_tag is not None:
        base = urljoin(base, base_tag["href"].strip())
    for element in soup.find_all(["link", "a"]):
        rel = element.get("rel") or []
        rels = rel.split() if isinstance(rel, str) else rel
        if "webmention" in (r.lower() for r in rels) and element.has_attr("href"):
            return urljoin(base, element["href"].strip())
    return None


def discover(target: str, guard: Guard) -> str | None:
    """The target's Webmention endpoint, or None. Raises FetchError when the target cannot be read."""
    fetched = guard.get(target, headers={"Accept": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"})
    if fetched.status >= 400:
        return None
    endpoints = link_header_endpoints(fetched.headers.get_list("link"), fetched.url)
    if endpoints:
        return endpoints[0]
    if fetched.content_type in HTML_TYPES or not fetched.content_type:
        return html_endpoint(fetched.text(), fetched.url)
    return None


@dataclass
class Outcome:
    target: str
    state: str  # sent | no_endpoint | failed
    endpoint: str | None = None
    status: int | None = None
    error: str = ""
    transient: bool = False


def send(source: str, target: str, guard: Guard) -> Outcome:
    """Discover `target`'s endpoint and notify it that `source` links to it (or no longer does)."""
    try:
        endpoint = discover(target, guard)
    except FetchError as exc:
        return Outcome(target, "failed", error=str(exc), transient=exc.transient)
    if endpoint is None:
        return Outcome(target, "no_endpoint")
    try:
        answer = guard.post_form(endpoint, {"source": source, "target": target})
    except FetchError as exc:
        return Outcome(target, "failed", endpoint, error=str(exc), transient=exc.transient)
    if 200 <= answer.status < 300:
        return Outcome(target, "sent", endpoint, answer.status)
    transient = answer.status >= 500 or answer.status == 429
    return Outcome(target, "failed", endpoint, answer.status, f"HTTP {answer.status}", transient)


# -- what a built post links to ----------------------------------------------------------------

def outgoing_links(html: str, page_url: str, network: Network) -> tuple[list[str], str]:
    """(links of the post's content that leave the network, hash of that content)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    entry = soup.find(class_="h-entry") or soup
    content = entry.find(class_="e-content") or entry.find("article") or entry
    anchors = list(content.find_all("a", href=True))
    for css in REPLY_CLASSES:
        anchors.extend(entry.find_all(class_=css, href=True))
    links: list[str] = []
    for anchor in anchors:
        url = urljoin(page_url, anchor["href"].strip())
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            continue
        if url.split("#", 1)[0] == page_url.split("#", 1)[0] or _inside_network(url, network):
            continue
        if url not in links:
            links.append(url)
    digest = hashlib.sha256(str(content).encode() + b"\0" + "\n".join(sorted(links)).encode()).hexdigest()
    return links, digest


def _inside_network(url: str, network: Network) -> bool:
    """Links between the network's blogs are answers (reply_to), handled by the comment service."""
    if network.site_for_url(url) is not None:
        return True
    return any(url.startswith(base) for base in (network.url, network.comments_url))


def _page_file(site_out: Path, site: Site, url: str) -> Path | None:
    if not url.startswith(site.url):
        return None
    relative = unquote(urlsplit(url[len(site.url):]).path)
    if relative == "" or relative.endswith("/"):
        relative += "index.html"
    path = (site_out / relative).resolve()
    root = site_out.resolve()
    return path if path.is_file() and root in path.parents else None


def current_posts(network: Network, site: Site, out: Path) -> dict[str, dict]:
    """url -> {"links", "hash"} for every published post of the built blog."""
    site_out = Path(out) / site.slug
    try:
        posts = json.loads((site_out / "posts.json").read_text(encoding="utf-8")).get("posts", [])
    except (OSError, ValueError):
        return {}
    found = {}
    for post in posts:
        url = post.get("url") if isinstance(post, dict) else None
        if not isinstance(url, str):
            continue
        page = _page_file(site_out, site, url)
        if page is None:
            continue
        links, digest = outgoing_links(page.read_text(encoding="utf-8", errors="replace"), url, network)
        found[url] = {"links": links, "hash": digest}
    return found


# -- state and the run after a build -----------------------------------------------------------

def state_path(network: Network, slug: str) -> Path:
    return network.root.joinpath(".cache", *STATE_DIR, f"{slug}.json")


def load_state(network: Network, slug: str) -> dict[str, dict]:
    try:
        data = json.loads(state_path(network, slug).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get("posts", {}) if isinstance(data, dict) else {}


def save_state(network: Network, slug: str, posts: dict[str, dict]) -> None:
    path = state_path(network, slug)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"posts": posts}, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


@dataclass
class Summary:
    slug: str
    posts: int = 0  # posts whose links were (re)sent: new, changed or deleted
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for o in self.outcomes if o.state == state)

    def line(self) -> str:
        return (
            f"Webmention ({self.slug}) : {self.count('sent')} envoyée(s) pour {self.posts} billet(s), "
            f"{self.count('no_endpoint')} lien(s) sans point d'accueil, {self.count('failed')} échec(s)"
        )


def plan(previous: dict[str, dict], current: dict[str, dict]) -> tuple[dict[str, list[str]], int]:
    """{source url: targets to send} and the number of posts concerned.

    New post: all its links. Changed post (links or content): the union of its old and new links.
    Deleted post: its former links. Unchanged post: only the transient failures kept for retry.
    """
    jobs: dict[str, list[str]] = {}
    changed = 0
    for url in sorted(set(previous) | set(current)):
        before, now = previous.get(url), current.get(url)
        retry = list((before or {}).get("retry", []))
        if now is None:
            targets = list((before or {}).get("links", []))
        elif before is None or before.get("hash") != now["hash"] or before.get("links") != now["links"]:
            targets = list(now["links"]) + [t for t in (before or {}).get("links", []) if t not in now["links"]]
        else:
            targets = []
        if targets:
            changed += 1
        targets += [t for t in retry if t not in targets]
        if targets:
            jobs[url] = targets
    return jobs, changed


def send_site(network: Network, site: Site, out: Path | None = None, guard: Guard | None = None) -> Summary:
    """Send what changed on one built blog since the last send; update the state."""
    out = Path(out or network.output)
    previous = load_state(network, site.slug)
    current = current_posts(network, site, out)
    jobs, changed = plan(previous, current)
    summary = Summary(site.slug, posts=changed)
    own_guard = guard is None
    guard = guard or Guard()
    try:
        pairs = [(source, target) for source, targets in jobs.items() for target in targets]
        with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
            outcomes = list(pool.map(lambda pair: send(pair[0], pair[1], guard), pairs))
    finally:
        if own_guard:
            guard.close()
    retry: dict[str, list[str]] = {}
    for (source, _target), outcome in zip(pairs, outcomes, strict=True):
        summary.outcomes.append(outcome)
        if outcome.state == "failed" and outcome.transient:
            retry.setdefault(source, []).append(outcome.target)
    state = {}
    for url, post in current.items():
        state[url] = {"links": post["links"], "hash": post["hash"], "retry": retry.get(url, [])}
    for url in previous:
        if url not in current and retry.get(url):  # deleted post whose news did not get through yet
            state[url] = {"links": [], "hash": "", "retry": retry[url]}
    save_state(network, site.slug, state)
    return summary


def send_after_build(network: Network, site: Site, out: Path | None = None, stream=None, force: bool = False):
    """The build's and the publish hook's entry: honours `webmention_send`, never raises."""
    if not (force or network.policies.webmention_send):
        return None
    stream = stream or sys.stdout
    try:
        summary = send_site(network, site, out)
    except Exception as exc:  # noqa: BLE001 - sending must never fail a build
        print(f"Webmention ({site.slug}) : envoi interrompu ({exc.__class__.__name__}: {exc}).", file=stream)
        return None
    if summary.outcomes or summary.posts:
        print(summary.line(), file=stream)
    return summary
