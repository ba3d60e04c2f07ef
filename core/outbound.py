"""The one guard for every outbound request Écoute makes to an address from config or from the web.

Collectors and alert webhooks both send through `guarded_client`: the host name is resolved once, every
address it resolves to is checked, and the connection goes to a checked address (never to a second
answer of the DNS, so rebinding cannot swap in loopback). TLS still verifies the certificate against
the host name of the URL, which is also the SNI and the Host header.

Refused: loopback, private, link-local, multicast, reserved, unspecified, shared (CGNAT) and cloud
metadata addresses, and the IPv6 forms that carry one of them: IPv4-mapped, IPv4-compatible, NAT64
(`64:ff9b::/96`; the local-use `64:ff9b:1::/48` always) and 6to4 (`2002::/16`); Teredo (`2001::/32`) is
refused whatever it carries. `allow_local` (a source's or a webhook's `local: true`) lifts the check.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from core.errors import EcouteError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
TEREDO = ipaddress.ip_network("2001::/32")
LOCAL_HINT = "`local: true` allows it"


class RefusedAddressError(EcouteError):
    """An outbound URL that is not http(s), or whose host is (or resolves to) a non-public address."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url, self.reason = url, reason


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system's resolver gives for `host` (IP literals come back as they are)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries: IPv4-mapped, IPv4-compatible, NAT64 or 6to4."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in NAT64 or (int(ip) >> 32 == 0 and int(ip) > 1):  # NAT64 or IPv4-compatible (::a.b.c.d)
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def refusal(address: str | IpAddress) -> str | None:
    """Why `address` may not be reached from Écoute, or None when it is a public unicast address."""
    ip = ipaddress.ip_address(address)
    if ip in METADATA:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64_LOCAL_USE:
            return "a local-use NAT64 address"
        if ip in TEREDO:
            return "a Teredo address"
        inner = embedded_ipv4(ip)
        if inner is not None:
            why = refusal(inner)
            return f"{why}, inside an IPv6 address" if why else None
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_loopback or ip.is_unspecified:
        return "a loopback or unspecified address"
    if not ip.is_global or ip.is_private or ip.is_reserved or ip.is_link_local:
        return "a private, link-local or reserved address"
    return None


def is_public_address(address: str | IpAddress) -> bool:
    """True for an address the guard lets a request reach."""
    return refusal(address) is None


class AddressGuard:
    """Resolves a host once and returns only addresses that may be reached; raises RefusedAddressError."""

    def __init__(self, allow_local: bool = False, resolver: Resolver | None = None) -> None:
        self.allow_local = allow_local
        self.resolver = resolver

    def check_url(self, url: str) -> None:
        """Refuse anything but http(s); the address itself is checked when connecting."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RefusedAddressError(url, "only http and https addresses are fetched")

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`, each checked; all refused if any one is not allowed."""
        resolve = self.resolver or system_resolver
        try:
            found = resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host} ({getattr(exc, 'strerror', exc)})") from exc
        if not found:
            raise httpcore.ConnectError(f"cannot resolve {host}")
        if not self.allow_local:
            for address in found:
                why = refusal(address)
                if why:
                    raise RefusedAddressError(
                        host, f"{host} is a private or local address ({address}: {why}); {LOCAL_HINT}"
                    )
        return found

    def check_host(self, url: str) -> list[str]:
        """`url` checked now, resolving its host; the checked addresses."""
        self.check_url(url)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            return self.addresses(parts.hostname or "", port)
        except RefusedAddressError as exc:
            raise RefusedAddressError(url, exc.reason) from None

    def connect(self, url: str, timeout: float) -> socket.socket:
        """A TCP connection to a checked address of `url`'s host (for websockets and other non-httpx use).

        Raises RefusedAddressError, httpcore.ConnectError when the name does not resolve, or OSError.
        """
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        failure: OSError | None = None
        for address in self.check_host(url):
            try:
                return socket.create_connection((address, port), timeout)
            except OSError as exc:
                failure = exc
        assert failure is not None
        raise failure


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to addresses the guard resolved and checked."""

    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in self.guard.addresses(host, port):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the guarded backend; TLS (SNI, hostname check) stays on the URL's name."""

    def __init__(self, guard: AddressGuard, verify: ssl.SSLContext | bool = True) -> None:
        super().__init__(verify=verify, trust_env=False)
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
        self._pool = httpcore.ConnectionPool(  # the pool httpx would build, on the guarded backend
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(guard),
        )


def guarded_client(
    allow_local: bool = False,
    resolver: Resolver | None = None,
    verify: ssl.SSLContext | bool = True,
    **options: Any,
) -> httpx.Client:
    """An httpx.Client whose every request, redirects included, goes through one AddressGuard.

    Proxies from the environment are not used: a proxy would connect to addresses the guard never saw.
    """
    guard = AddressGuard(allow_local, resolver)

    def check_scheme(request: httpx.Request) -> None:
        guard.check_url(str(request.url))

    hooks = options.pop("event_hooks", {})
    hooks["request"] = [check_scheme, *hooks.get("request", [])]
    return httpx.Client(
        transport=GuardedTransport(guard, verify), trust_env=False, event_hooks=hooks, **options
    )
