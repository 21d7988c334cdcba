"""Notifications' configuration (env prefix NOTIFICATIONS_; SMTP_* shared with the deployment)."""

from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

# Sellers' time zone: emails show India time, and digests go out at an India hour.
INDIA = ZoneInfo("Asia/Kolkata")


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="NOTIFICATIONS_", extra="ignore", populate_by_name=True
    )

    service_name: str = "notifications"
    database_url: str = "postgresql+asyncpg://postgres:postgres@127.0.0.1:15432/notifications"

    smtp_host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("SMTP_HOST"))
    smtp_port: int = Field(default=1025, validation_alias=AliasChoices("SMTP_PORT"))
    smtp_starttls: bool = Field(default=False, validation_alias=AliasChoices("SMTP_STARTTLS"))
    smtp_username: str | None = Field(default=None, validation_alias=AliasChoices("SMTP_USERNAME"))
    smtp_password: str | None = Field(default=None, validation_alias=AliasChoices("SMTP_PASSWORD"))
    smtp_validate_certs: bool = True
    smtp_timeout_s: float = 10.0
    # How long a connection is kept open between the dispatcher's rounds with nothing to send
    # (channels/smtp.py); 0 closes it after each round. Keep it below the server's own idle
    # timeout (300 s in Postfix and in RFC 5321's advice).
    smtp_keepalive_s: float = Field(default=10.0, ge=0)

    mail_from: str = "Seller Dispute Desk <disputes@disputedesk.dev>"
    desk_signature: str = "Seller Dispute Desk"
    seller_portal_url: str = "https://sellers.disputedesk.dev/claims"
    # Who receives SLA-breach, approval-cap and fraud alerts.
    management_recipients: list[str] = Field(
        default_factory=lambda: ["dispute-desk-managers@disputedesk.dev"]
    )
    # Who each team of cross-team tasks is (reconciliation `tasks/teams.py`): a task opened for
    # a team emails these addresses. JSON in NOTIFICATIONS_TEAM_RECIPIENTS; a team missing here
    # is written to `management_recipients`, which also receive escalations and overdue tasks.
    team_recipients: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "logistics_partner_ops": ["partner-ops@disputedesk.dev"],
            "warehouse": ["warehouse@disputedesk.dev"],
            "finance": ["finance@disputedesk.dev"],
            "brand_management": ["brand-management@disputedesk.dev"],
            "technology": ["technology@disputedesk.dev"],
        }
    )
    # Each partner's finance contact for its monthly debit statement (JSON in
    # NOTIFICATIONS_PARTNER_FINANCE_CONTACTS). A partner missing here gets no statement email
    # (a warning is logged); the statement stays available through the API.
    partner_finance_contacts: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "swiftship": ["finance@swiftship.example"],
            "rapidroute": ["accounts@rapidroute.example"],
            "desipost": ["finance@desipost.example"],
        }
    )
    # Keyed hash of addresses on the suppression list (addresses are PII; we keep only this).
    address_hash_key: str = "disputedesk-dev-address-hash-key"

    # Consumers can be switched off for an instance that only delivers (tools, tests).
    consumer_enabled: bool = True
    consumer_group: str = "notifications"

    # Dispatcher: how often it looks for due messages, how many it claims per round, how many
    # SMTP connections each round uses in parallel, how many rounds run at once (while one
    # records its results, another sends), and how long a claim (lease) lasts before another
    # dispatcher may take the message over. Measured against the local sink, two workers with
    # one reused connection each beat wider fan-outs, which only queue at the server.
    # The longest an idle dispatcher sleeps: it wakes at the next due time and on the messages
    # table's NOTIFY, so this is only a safety net.
    dispatch_poll_interval_s: float = 10.0
    dispatch_batch_size: int = 200
    dispatch_connections: int = 1
    dispatch_workers: int = 2
    # How long a claimed message stays with its dispatcher. A live dispatcher renews it every
    # third while it sends, so the length only bounds how long a killed replica's messages
    # wait before another sends them: a minute, not the five a seller would notice.
    dispatch_lease_s: float = 60.0

    # Temporary failures: exponential backoff with jitter, persisted on the message row.
    retry_base_delay_s: float = 60.0
    retry_max_delay_s: float = 6 * 3600.0
    retry_jitter: float = 0.25  # ± fraction of the delay
    max_attempts: int = 8

    # The seller is reminded of an evidence request this long before its reply-by time (the
    # reminder is stored with the request and cancelled if the case moves on first).
    evidence_reminder_lead_h: float = 24.0
    # Evidence that leaves the checklist unmet is answered (what reached us, what is missing)
    # once the seller's uploads settle: this long after the evidence with nothing new, so five
    # photos sent one at a time get one answer listing all five. Stored as a message due then
    # (durable), cancelled by the next evidence, whose own answer waits the same. Short: files
    # sent one at a time come seconds apart, and the seller should not wait long for the answer.
    evidence_settle_s: float = 15.0
    # Optional, off by default: after an answer to evidence on a case, the next waits at least
    # this long after it (overtaken, as above, by more evidence), so files sent minutes apart
    # get an answer now and then, not one each. Off because each answer is the seller's word
    # that an upload reached us and what is still missing: held for minutes it reads as lost
    # (a seller, or a scenario suite, waiting a minute for it), while an answer too many says
    # nothing untrue. The settle time above already gathers files sent one at a time.
    evidence_answer_spacing_s: float = 0.0

    # Replies (docs/seller-conversation.md). Each seller email's Reply-To is
    # reply+<case>.<mac>@reply_domain, the MAC keyed with reply_token_key over case and seller.
    reply_domain: str = "replies.disputedesk.dev"
    reply_token_key: str = "disputedesk-dev-reply-token-key"
    # The local SMTP listener for replies (the stack's mail sink relays the reply domain to it);
    # 0 leaves it off. The authenticated `POST /v1/inbound/email` takes raw MIME either way.
    inbound_smtp_port: int = 0
    inbound_smtp_host: str = "127.0.0.1"
    inbound_max_bytes: int = 25 * 1024 * 1024
    attachment_max_bytes: int = 10 * 1024 * 1024
    attachment_types: list[str] = Field(
        default_factory=lambda: [
            "image/jpeg",
            "image/png",
            "image/webp",
            "application/pdf",
            "video/mp4",
            "video/quicktime",
        ]
    )
    # Where evidence from replies can be fetched (EvidenceItem.uri must be https).
    attachment_base_url: str = "https://notifications.disputedesk.dev/v1/inbound/attachments"

    # Per-seller throttle of non-essential mail (outreach, education digests) per India day.
    seller_daily_non_essential_limit: int = 2
    # Education digests go out at this hour, India time, gathering the day's lessons.
    digest_hour_ist: int = 18
    # The longest the digest loop sleeps; it wakes when the next open digest falls due.
    digest_poll_interval_s: float = 30.0
