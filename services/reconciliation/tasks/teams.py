"""The teams the desk works with."""

from __future__ import annotations

from enum import StrEnum


class Team(StrEnum):
    LOGISTICS_PARTNER_OPS = "logistics_partner_ops"
    WAREHOUSE = "warehouse"
    FINANCE = "finance"
    BRAND_MANAGEMENT = "brand_management"
    TECHNOLOGY = "technology"
    MANAGEMENT = "management"
