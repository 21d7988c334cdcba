"""TCP probes of the endpoints the local stack serves or is pointed at."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit


def is_listening(host: str, port: int, *, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def is_free(host: str, port: int) -> bool:
    """True when this process could bind host:port (SO_REUSEADDR, as servers do, so a
    socket lingering in TIME_WAIT after a restart does not count as taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def first_bootstrap_address(bootstrap_servers: str, *, default_port: int = 9092) -> tuple[str, int]:
    """`"a:9092,b:9092"` -> `("a", 9092)`: the address to probe first."""
    first = bootstrap_servers.split(",")[0].strip()
    # A scheme-less netloc parses with urlsplit once it is given an empty scheme prefix.
    parts = urlsplit(f"//{first}")
    return parts.hostname or "127.0.0.1", parts.port or default_port


def url_address(url: str, *, default_port: int) -> tuple[str, int]:
    """`postgresql+asyncpg://u:p@db:6543/x` -> `("db", 6543)`."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def smtp_greets(host: str, port: int, *, timeout: float = 1.0) -> bool:
    """True when an SMTP server on host:port sends its `220` greeting."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            greeting = conn.recv(512)
            conn.sendall(b"QUIT\r\n")
    except OSError:
        return False
    return greeting.startswith(b"220")
