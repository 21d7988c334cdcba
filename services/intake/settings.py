"""Intake's configuration (env prefix INTAKE_)."""

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", populate_by_name=True)

    service_name: str = "intake"
    database_url: str = "postgresql+asyncpg://postgres:postgres@127.0.0.1:15432/intake"
    # Partner signatures older or newer than this are refused (replay protection).
    signature_tolerance_s: int = 300
    # A partner scan may arrive before the marketplace feed names its return (feeds lag). It is
    # held this long for the feed entry, then refused. (An escalation that early is emitted at
    # once and waits in its case: SOP E1 moves it to the desk after 48 h.)
    hold_window_h: float = 72.0
    # How often the background sweep refuses what has waited past the hold window.
    hold_sweep_interval_s: float = 60.0
    # A partner secret whose validity ended (rotation or revocation) is deleted this long after
    # its not-after: long enough to investigate a disputed signature, not kept for ever.
    revoked_secret_grace_h: int = 7 * 24
    # A partner's webhooks spend tokens leased from its shared bucket this many seconds' worth
    # of its rate at a time (shared/rate_limit.py): a busy partner pays the limiter's round trip
    # once a lease instead of once a request. The price: a replica may hold up to this share of
    # the partner's rate unused. 0 spends token by token.
    partner_rate_limit_lease_s: float = 0.1
    # The common webhooks that arrive while their statement is in flight go together in the
    # next one (partners/batching.py), up to this many scans (a request carrying more goes
    # alone): it bounds one statement's document, not how long anyone waits.
    webhook_statement_max_scans: int = 500
    # A webhook of more scans than this (a partner's batch) is sent in a lane of its own, so
    # that the single scans arriving meanwhile do not wait for its much longer statement.
    webhook_statement_bulk_scans: int = 50
