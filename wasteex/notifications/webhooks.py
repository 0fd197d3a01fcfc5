"""Webhook calls, the pure part: signing, back-off, vetting the target, one HTTP POST.

No Flask and no database here; the outbox (``outbox.py``) passes settings in.

**Signature.** Every call carries ``X-WasteEx-Signature: t=<unix seconds>,v1=<hex>``
where ``hex = HMAC-SHA256(secret, "<t>.<body>")`` over the exact body bytes; the
receiver recomputes it with the secret it was shown once, compares in constant
time and refuses a ``t`` older than a few minutes (a replayed call). Retries are
signed anew, so ``t`` is the time of the attempt. :func:`verify` is the receiver's
side, in Python.

**Targets.** Only ``http``/``https`` URLs without credentials. The host is resolved
before every call and each address must be public (no loopback, private,
link-local, shared or reserved range) unless the caller allows private targets
(tests, an intranet); the connection then goes to the address that was vetted,
so a DNS answer that changes between the check and the call (rebinding) cannot
reach an internal service. Redirects are not followed: a 3xx is a failure.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from wasteex.notifications import N_

SIGNATURE_HEADER = "X-WasteEx-Signature"
SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 300
USER_AGENT = "WasteEx-Webhooks/1"
ERROR_EXCERPT = 500  # characters of an error answer kept in the delivery log


# Signing -------------------------------------------------------------------------

def new_secret() -> str:
    """``whsec_`` and 256 random bits, URL-safe: shown once to the enterprise's admin."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, now: float | None = None) -> str:
    timestamp = int(time.time() if now is None else now)
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: float | None = None,
           tolerance: int = TOLERANCE_SECONDS) -> bool:
    """The receiver's check: a ``v1`` signature of this body by this secret, made recently."""
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [value for key, value in parts if key.strip() == "t"]
    if len(timestamps) != 1 or not timestamps[0].strip().isdigit():
        return False
    timestamp = int(timestamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, value.strip()) for key, value in parts if key.strip() == "v1")


# Back-off ------------------------------------------------------------------------

def retry_delay(attempts: int, base_seconds: int, max_seconds: int) -> int:
    """Seconds to wait after the ``attempts``-th failed attempt: base, 2×base, 4×base … capped."""
    return min(max_seconds, base_seconds * 2 ** max(0, attempts - 1))


# Targets -------------------------------------------------------------------------

class TargetRefused(ValueError):
    """The URL is malformed, not http(s), or points where webhooks may not go.

    The message is an English message id: the service translates it for the page.
    """


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query


def parse_target(url: str) -> Target:
    """The parts of a webhook URL, or TargetRefused saying what is wrong with it."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(N_("The URL is not valid.")) from exc
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(N_("Use an http:// or https:// URL."))
    if not parts.hostname:
        raise TargetRefused(N_("The URL has no host."))
    if parts.username is not None or parts.password is not None:
        raise TargetRefused(N_("Put no user name or password in the URL; the signature authenticates WasteEx."))
    if parts.fragment:
        raise TargetRefused(N_("A webhook URL has no #fragment."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path)


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(target: Target, allow_private: bool) -> str:
    """The address to connect to: the first one the host resolves to, after vetting them all."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(N_("The host name cannot be resolved.")) from exc
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise TargetRefused(N_("The host name cannot be resolved."))
    if not allow_private and not all(is_public(address) for address in addresses):
        raise TargetRefused(N_("The URL points to a private, loopback or reserved address."))
    return addresses[0]


def check_url(url: str, allow_private: bool) -> str:
    """A URL fit to register (stripped), or TargetRefused."""
    resolve(parse_target(url), allow_private)
    return url.strip()


# Calling -------------------------------------------------------------------------

class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the vetted address while speaking to (and naming) the URL's host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(_PinnedHTTP):
    default_port = 443

    def connect(self) -> None:
        super().connect()
        self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.host)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None  # the HTTP status, None when no answer came
    error: str  # empty when ok


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool) -> Outcome:
    """POST ``body`` once; any 2xx is a success, everything else (3xx included) a failure."""
    try:
        target = parse_target(url)
        address = resolve(target, allow_private)
    except TargetRefused as exc:
        return Outcome(False, None, str(exc))
    connection_class = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = connection_class(target.host, target.port, address, timeout)
    try:
        connection.request("POST", target.path, body=body, headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT, **headers})
        response = connection.getresponse()
        excerpt = response.read(ERROR_EXCERPT).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:ERROR_EXCERPT])
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return Outcome(True, response.status, "")
    error = f"HTTP {response.status} {response.reason}" + (f": {excerpt.strip()}" if excerpt.strip() else "")
    return Outcome(False, response.status, error)
