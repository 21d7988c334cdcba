"""The console's configuration (env prefix CONSOLE_): where the four services answer, how long a
session lives, and how long the console waits for an upstream before saying it is slow."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _local(service: str, default_port: int) -> str:
    # `make run` gives each service <NAME>_PORT; the console finds them the same way.
    port = os.environ.get(f"{service.upper()}_PORT", "").strip() or str(default_port)
    return f"http://127.0.0.1:{port}"


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore", populate_by_name=True)

    service_name: str = "console"
    intake_url: str = Field(default_factory=lambda: _local("intake", 8001))
    reconciliation_url: str = Field(default_factory=lambda: _local("reconciliation", 8002))
    fraud_url: str = Field(default_factory=lambda: _local("fraud", 8003))
    notifications_url: str = Field(default_factory=lambda: _local("notifications", 8004))

    # The same keyring the services read: the console learns who a key belongs to (and so which
    # pages and actions to offer) without holding any key of its own.
    keyring_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("DISPUTEDESK_KEYRING_FILE", "keyring_file")
    )

    # The largest request body read, as for the services: past it 413 before any form parsing
    # (the form parser alone would read up to 1,000 fields of 1 MiB each, signed in or not).
    max_body_bytes: int = 1024 * 1024

    # A session ends after this long without a request; the key is then forgotten.
    idle_timeout_s: int = 30 * 60
    # `Secure` cookies: browsers accept them from http://127.0.0.1 and localhost too, so this
    # stays on everywhere except behind a plain-HTTP proxy on another host name.
    cookie_secure: bool = True
    cookie_name: str = "dd_console"

    # Failed sign-ins a client address may make per minute (also the burst); past it, every
    # sign-in from that address is refused until its bucket refills (auth/throttle.py).
    sign_in_failures_per_min: int = 10
    # Past this an upstream counts as slow and the page says so instead of hanging.
    upstream_timeout_s: float = 5.0
    # Queue rows per page, and how often the open queue refreshes itself.
    page_size: int = 25
    refresh_s: int = 15
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL", "log_level"))

    # The https origins evidence images are shown from, space-separated (CSP's own syntax): the
    # evidence stores the marketplace and notifications write to. A seller names its evidence by
    # any https address it likes; a thumbnail from anywhere else would have each desk person's
    # browser fetch it, telling that host who opened the case and when. Other evidence is a link.
    evidence_image_sources: str = "https://notifications.disputedesk.dev"

    @field_validator("evidence_image_sources")
    @classmethod
    def _origins_only(cls, value: str) -> str:
        origins = []
        for source in value.split():
            parts = urlsplit(source)
            if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/"):
                raise ValueError(f"{source!r} is not an https origin (https://host[:port])")
            if parts.query or parts.fragment or parts.username or "*" in source:
                raise ValueError(f"{source!r} is not an https origin (https://host[:port])")
            origins.append(f"https://{parts.netloc.lower()}")
        return " ".join(origins)

    def image_origins(self) -> frozenset[str]:
        return frozenset(self.evidence_image_sources.split())


def image_origin(uri: str) -> str | None:
    """The origin a thumbnail of this evidence address would be fetched from, as CSP compares
    it (scheme, host, port; the host in lower case); None for an address that is not https."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not host or parts.username or parts.password:
        return None
    return f"https://{host}" if port in (None, 443) else f"https://{host}:{port}"
