"""Where a webhook may go: ``https`` to public addresses only (SSRF rules).

A URL is checked when its endpoint is registered and again at every attempt, after its name is
resolved: every address the name has must be public, and the attempt then connects to the very
address that was checked, with the name kept for ``Host`` and TLS (SNI and the certificate). So
a name that resolves inward later, or for a moment (DNS rebinding), is refused, never reached.

``ROUGHY_WEBHOOK_ALLOW_PRIVATE`` lifts both rules (plain ``http``, private addresses) for
self-hosting on a private network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2048


class Refused(ValueError):
    """This URL may not be sent to; the message says why, in the client's terms."""


@dataclass(frozen=True)
class Target:
    """Where one attempt connects: ``url`` holds the checked address in place of the name."""

    url: str
    host: str  # the Host header: the name (and port) as registered
    server_name: str | None  # https: the name TLS asks for and the certificate must hold


def is_public(address: IPAddress) -> bool:
    """A globally routable unicast address: not private, loopback, link-local (cloud metadata
    at 169.254.169.254 included), shared (100.64/10), unique-local, multicast or reserved; an
    IPv6 address that carries an IPv4 one is judged by that one."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if inner is not None:
            return is_public(inner)
    return address.is_global and not (address.is_multicast or address.is_reserved)


def parse(url: str, *, allow_private: bool) -> SplitResult:
    """The URL's parts, if it may be registered as it is written (before any name lookup)."""
    if len(url) > MAX_URL_LENGTH:
        raise Refused(f"must be at most {MAX_URL_LENGTH} characters")
    parts = urlsplit(url.strip())
    schemes = ("http", "https") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise Refused("must be an https URL" if not allow_private else "must be an http(s) URL")
    try:
        port = parts.port
    except ValueError:
        raise Refused("has an invalid port") from None
    if not parts.hostname or port == 0:
        raise Refused("must name a host")
    if parts.username is not None or parts.password is not None:
        raise Refused("must not carry credentials")
    literal = _literal(parts.hostname)
    if literal is not None and not allow_private and not is_public(literal):
        raise Refused("must not point to a private, loopback, link-local or reserved address")
    return parts


def check(url: str, *, allow_private: bool) -> str:
    """The URL as registered, once its name resolves to public addresses only (blocking)."""
    parts = parse(url, allow_private=allow_private)
    if not allow_private:
        _public_only(_lookup(parts))
    return parts.geturl()


async def target(url: str, *, allow_private: bool) -> Target:
    """Where an attempt connects now: the URL checked again, its name resolved and every
    address of it checked; the first one is pinned."""
    parts = parse(url, allow_private=allow_private)
    addresses = await _resolve(parts)
    if not allow_private:
        _public_only(addresses)
    return _pinned(parts, addresses[0])


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def _lookup(parts: SplitResult) -> list[IPAddress]:
    host = parts.hostname or ""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, _port(parts), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused("names a host that does not resolve") from None
    return _addresses(infos)


async def _resolve(parts: SplitResult) -> list[IPAddress]:
    host = parts.hostname or ""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, _port(parts), type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError):
        raise Refused("names a host that does not resolve") from None
    return _addresses(infos)


def _addresses(infos: Sequence[tuple[Any, ...]]) -> list[IPAddress]:
    """The addresses of ``getaddrinfo``'s answer (an IPv6 zone dropped)."""
    found = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not found:
        raise Refused("names a host that does not resolve")
    return found


def _public_only(addresses: list[IPAddress]) -> None:
    if not all(is_public(a) for a in addresses):
        raise Refused("resolves to a private, loopback, link-local or reserved address")


def _pinned(parts: SplitResult, address: IPAddress) -> Target:
    host = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{host}:{_port(parts)}"
    name = parts.hostname or ""
    shown = f"[{name}]" if ":" in name else name
    host_header = shown if parts.port is None else f"{shown}:{parts.port}"
    url = parts._replace(netloc=netloc).geturl()
    server_name = name if parts.scheme == "https" and _literal(name) is None else None
    return Target(url=url, host=host_header, server_name=server_name)
