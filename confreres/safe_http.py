"""HTTP requests to URLs chosen by strangers (Webmention sources, targets and endpoints; fediverse actors
and inboxes).

Every hop is checked before it is made: http(s) only, at most `max_redirects` redirects (each one
checked again), a time budget, a size cap, and never an address on loopback, a private or shared
network, link-local, multicast, reserved or unspecified. The host is resolved here, every
resolved address is checked, and the connection is pinned to a checked address (the `Host`
header and TLS server name stay the URL's), so a second DNS answer cannot swap in 127.0.0.1
between check and connect (DNS rebinding).

Hosts an operator lists in `CONFRERES_OUTGOING_ALLOW_HOSTS` (comma-separated `host:port`; a
bare `host` allows every port) skip the address check, for every outgoing request: the tests'
loopback servers, a receiver on the same private network, the demo's stand-in instance. Empty by
default. `CONFRERES_WEBMENTION_ALLOW_HOSTS`, its former name, still counts (both lists are joined).

The errors' messages are in French: a Webmention's sender reads them in its status (`error`).

A leaf module, used by the comment service (receiving) and by the build (sending). Its `deadline_transport`
also serves the planet's fetcher (plugins/planet/fetch.py): httpx's timeouts bound each socket read, so a server
answering one byte a second (headers included) could hold a request forever; under `total_deadline(until)` every
read, write and connect is bounded by the time left, and one past it fails as a timeout; given the hosts network.toml
lists, it opens a connection to any other host only to a public address, checked as it connects (a redirect or an
advertised feed of an outside blog cannot lead the planet to loopback or the private network).
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import os
import socket
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

ALLOW_ENV = "CONFRERES_OUTGOING_ALLOW_HOSTS"
LEGACY_ALLOW_ENV = "CONFRERES_WEBMENTION_ALLOW_HOSTS"  # its name before it applied to every outgoing request
USER_AGENT = "Confreres-Webmention/1.0 (+https://www.w3.org/TR/webmention/)"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
DEFAULT_PORTS = {"http": 80, "https": 443}


class FetchError(Exception):
    """A request that did not give a usable answer; `transient` when retrying later may help."""

    transient = False


class Refused(FetchError):
    """The URL may not be requested at all (scheme, address, redirects, size)."""


class Unreachable(FetchError):
    """DNS, connection, TLS or timeout failure."""

    transient = True


# -- a deadline for the whole exchange ------------------------------------------------------------

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("confreres_http_deadline", default=None)


@contextlib.contextmanager
def total_deadline(until: float) -> Iterator[None]:
    """Requests made by this thread through a `deadline_transport` end by `until` (time.monotonic())."""
    token = _DEADLINE.set(until)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """The socket timeout for one operation: httpx's, cut to what is left before the deadline."""
    until = _DEADLINE.get()
    if until is None:
        return timeout
    left = until - time.monotonic()
    if left <= 0:
        raise error("délai total dépassé")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, allow: frozenset[str] | None = None):
        self._inner = httpcore.SyncBackend()
        self._allow = allow

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        if self._allow is not None and not listed(self._allow, host, port):
            host = _public_address(host, port)
        stream = self._inner.connect_tcp(host, port, _left(timeout, httpcore.ConnectTimeout), local_address,
                                         socket_options)
        return _DeadlineStream(stream)


NOT_PUBLIC = "désigne une adresse non publique : refusée"


def _public_address(host: str, port: int) -> str:
    """The checked address to connect to for `host` (resolved once here: no second DNS answer is asked), or
    httpcore.ConnectError when any address it resolves to is not public."""
    try:
        addresses = _resolve(host, port)
    except Unreachable as exc:
        raise httpcore.ConnectError(str(exc)) from None
    if not all(is_public(a) for a in addresses):
        raise httpcore.ConnectError(f"{host} {NOT_PUBLIC}")  # not which address: the planet's status page is public
    return addresses[0].split("%", 1)[0]

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport(allow: frozenset[str] | None = None, **options) -> httpx.HTTPTransport:
    """httpx's own transport (`options` as for httpx.HTTPTransport) whose sockets obey `total_deadline()`.

    With `allow` (entries as `allow_hosts` gives), every connection to a host it does not list must reach a public
    address, checked when the socket is opened, to the address checked: a redirect or a link chosen by a stranger's
    server (the planet's outside feeds) cannot lead it to loopback, the private network or 169.254.169.254."""
    from confreres import tls

    transport = httpx.HTTPTransport(**{"verify": tls.CONTEXT, **options})
    # httpx takes no network backend; its pool (httpcore.ConnectionPool) does, as `_network_backend`.
    assert hasattr(transport._pool, "_network_backend"), "httpx changed: see confreres/safe_http.py"
    transport._pool._network_backend = _DeadlineBackend(allow)
    return transport


def allow_hosts(value: str | None = None) -> frozenset[str]:
    """The allow-list from `value` or from the environment: lower-case `host:port` (or `host`) entries."""
    if value is None:
        value = ",".join(os.environ.get(name, "") for name in (ALLOW_ENV, LEGACY_ALLOW_ENV))
    raw = value
    entries = set()
    for item in raw.split(","):
        item = item.strip().lower()
        if item:
            entries.add(item)
    return frozenset(entries)


def listed(allow: frozenset[str], host: str, port: int) -> bool:
    """Whether `allow` lists host:port (or the bare host: every port); an IPv6 host as "[::1]"."""
    host = host.lower()
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" in allow or shown in allow or host in allow


def hosts_of(urls: Iterable[str]) -> frozenset[str]:
    """The host:port entries of `urls` (their default port when none is written), as `listed` reads them."""
    entries = set()
    for url in urls:
        try:
            parts = urlsplit(url)
            port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
        except ValueError:
            continue
        if parts.hostname and port:
            host = parts.hostname.lower()
            entries.add(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    return frozenset(entries)


def configured_allow_hosts(config) -> frozenset[str]:
    """The allow-list an app's config sets (`OUTGOING_ALLOW_HOSTS`, and `WEBMENTION_ALLOW_HOSTS`, its former
    name), else the environment's."""
    values = [str(config[key]) for key in ("OUTGOING_ALLOW_HOSTS", "WEBMENTION_ALLOW_HOSTS") if config.get(key) is not None]
    return allow_hosts(",".join(values)) if values else allow_hosts()


def is_public(address: str) -> bool:
    """True for an address anyone on the Internet could reach; False for every special-purpose range."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return is_public(str(mapped))
        if ip.teredo:
            return False
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise Unreachable(f"{host} : nom introuvable") from None  # not the resolver's words: a stranger reads this
    addresses = []
    for info in infos:
        address = info[4][0]
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Unreachable(f"{host} : aucune adresse")
    return addresses


ACCEPT_ENCODING = "gzip, deflate"  # what Inflater decodes, and only that (no br, no zstd)


class Inflater:
    """A gzip or deflate body, decompressed here by zlib, never beyond what the size cap leaves: httpx's
    `iter_bytes()` inflates each whole chunk first, and a 1 MiB gzip bomb of zeros made 1 GiB (≈100 MiB resident
    per feed, 32 feeds at a time). wbits 47 reads gzip and zlib; a raw deflate stream (some servers send one as
    `deflate`) is read too; gzip members one after another are one body."""

    def __init__(self):
        self.inflater = zlib.decompressobj(47)
        self.head = b""  # the first bytes, until zlib tells gzip or zlib from raw deflate
        self.started = False

    def inflate(self, data: bytes, room: int) -> bytes:
        """Up to `room` + 1 bytes of the body (more than `room`: too big); zlib.error when it is not gzip or deflate."""
        if not self.started:
            data, self.head = self.head + data, b""
            if len(data) < 2:
                self.head = data
                return b""
        out, size = [], 0
        while data and size <= room:
            try:
                piece = self.inflater.decompress(data, room + 1 - size)
            except zlib.error:
                if self.started:
                    raise
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # no header: raw deflate
                self.started = True
                continue
            self.started = True
            out.append(piece)
            size += len(piece)
            if self.inflater.eof:
                data = self.inflater.unused_data
                if not data.startswith(b"\x1f\x8b"):
                    break  # trailing bytes after the stream: ignored, as gzip does
                self.inflater = zlib.decompressobj(47)
            else:
                data = self.inflater.unconsumed_tail
        return b"".join(out)


def inflater_for(headers) -> Inflater | None:
    """The Inflater a response's Content-Encoding calls for (None: not compressed); Refused for anything else
    (several codings, br, zstd: a server sending what was not asked for)."""
    codings = [c.strip().lower() for c in headers.get("content-encoding", "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) > 1 or codings[0] not in ("gzip", "x-gzip", "deflate"):
        raise Refused(f"compression non prise en charge ({', '.join(codings)[:40]})")
    return Inflater()


@dataclass
class Fetched:
    url: str  # after redirects
    status: int
    headers: httpx.Headers
    body: bytes
    truncated: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return None

    def text(self) -> str:
        for encoding in (self.charset, "utf-8"):
            if encoding:
                try:
                    return self.body.decode(encoding)
                except (LookupError, UnicodeDecodeError):
                    continue
        return self.body.decode("latin-1")


class Guard:
    """A small HTTP client that refuses what a stranger's URL must not make us request."""

    def __init__(
        self,
        allow: Iterable[str] | None = None,
        *,
        timeout: float = 5.0,
        max_bytes: int = 1024 * 1024,
        max_redirects: int = 3,
        user_agent: str = USER_AGENT,
        resolver: Callable[[str, int], list[str]] = _resolve,
    ):
        self.allow = allow_hosts() if allow is None else frozenset(a.strip().lower() for a in allow if a.strip())
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self.resolver = resolver
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False,
            headers={"User-Agent": user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            transport=deadline_transport(trust_env=False),
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._client.close()

    # -- checks ------------------------------------------------------------------------------

    def allowed(self, host: str, port: int) -> bool:
        return listed(self.allow, host, port)

    def check(self, url: str) -> tuple[httpx.URL, dict, dict]:
        """(URL to connect to, extra headers, request extensions) for `url`, or Refused."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise Refused(f"adresse invalide : {url!r}") from None
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            raise Refused(f"seules les adresses http(s) sont lues, pas {url!r}")
        if parts.username or parts.password:
            raise Refused("une adresse avec identifiants n'est pas lue")
        host = parts.hostname
        port = port or DEFAULT_PORTS[scheme]
        try:
            target = httpx.URL(url)  # stricter than urlsplit: `0177.0.0.1`, `1.2.3.04` are refused here
        except (httpx.InvalidURL, ValueError) as exc:
            raise Refused(f"adresse invalide : {url!r} ({exc})") from None
        if self.allowed(host, port):
            return target, {}, {}
        addresses = self.resolver(host, port)
        bad = [a for a in addresses if not is_public(a)]
        if bad:
            # not which address: a Webmention's sender reads this (its status URL), and must not map our network
            raise Refused(f"{host} désigne une adresse non publique : refusée")
        pinned = target.copy_with(host=addresses[0].split("%", 1)[0])
        headers = {"Host": target.netloc.decode("ascii")}
        extensions = {"sni_hostname": host} if scheme == "https" else {}
        return pinned, headers, extensions

    # -- requests ----------------------------------------------------------------------------

    def _send(self, method: str, url: str, headers: dict | None, data: dict | None, deadline: float,
              content: bytes | None = None) -> Fetched:
        connect_url, extra, extensions = self.check(url)
        request = self._client.build_request(
            method, connect_url, headers={**(headers or {}), **extra}, data=data, content=content,
            extensions=extensions,
        )
        slow = Unreachable(f"{url} : trop lent (plus de {2 * self.timeout:g} s)")
        with total_deadline(deadline):
            try:
                response = self._client.send(request, stream=True)
            except httpx.TimeoutException:
                raise slow from None
            except httpx.HTTPError as exc:
                raise Unreachable(f"{url}: {exc.__class__.__name__}: {exc}") from None
            try:
                body = bytearray()
                truncated = False
                # raw bytes, inflated here within the cap: httpx's iter_bytes() inflated each chunk whole first, and
                # 2 KB gzipped twice took 2 GB (a Webmention source, an inbox's keyId: anyone's server)
                inflater = inflater_for(response.headers)
                received = 0
                for chunk in response.iter_raw():
                    received += len(chunk)
                    if inflater is not None:
                        chunk = inflater.inflate(chunk, self.max_bytes - len(body))
                    body.extend(chunk)
                    if len(body) > self.max_bytes or received > self.max_bytes:  # the first max_bytes; the caller decides
                        truncated = True
                        del body[self.max_bytes :]
                        break
                    if time.monotonic() > deadline:
                        raise slow
            except zlib.error:
                raise Unreachable(f"{url} : réponse compressée illisible") from None
            except httpx.TimeoutException:
                raise slow from None
            except httpx.HTTPError as exc:
                raise Unreachable(f"{url}: {exc.__class__.__name__}: {exc}") from None
            finally:
                response.close()
        return Fetched(url, response.status_code, response.headers, bytes(body), truncated)

    def get(self, url: str, headers: dict | None = None) -> Fetched:
        """GET, following at most `max_redirects` redirects, each one checked like the first URL."""
        deadline = time.monotonic() + 2 * self.timeout
        current = url
        for _ in range(self.max_redirects + 1):
            fetched = self._send("GET", current, headers, None, deadline)
            location = fetched.headers.get("location")
            if fetched.status not in REDIRECTS or not location:
                return fetched
            current = urljoin(current, location.strip())
        raise Refused(f"{url} : plus de {self.max_redirects} redirections")

    def post(self, url: str, content: bytes, headers: dict) -> Fetched:
        """POST a body as it is (a signed ActivityPub delivery); redirects are not followed."""
        return self._send("POST", url, headers, None, time.monotonic() + 2 * self.timeout, content=content)

    def post_form(self, url: str, data: dict) -> Fetched:
        """POST form fields; redirects are not followed (the answer is the endpoint's)."""
        return self._send("POST", url, {"Accept": "*/*"}, data, time.monotonic() + 2 * self.timeout)
