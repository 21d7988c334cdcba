"""Money as people read it. Amounts travel and are stored as integer paise; only what a person
reads (a seller's email, the decision paragraph, the desk's console) turns them into rupees."""

from __future__ import annotations


def rupees(paise: int) -> str:
    """Integer paise as rupees with the Indian digit grouping: the last three digits of the
    whole rupees, then pairs (12345678900 → `₹12,34,56,789.00`). Exact: no float on the way."""
    sign = "-" if paise < 0 else ""
    whole, rest = divmod(abs(paise), 100)
    digits = str(whole)
    head, tail = digits[:-3], digits[-3:]
    groups: list[str] = []
    while head:
        groups.insert(0, head[-2:])
        head = head[:-2]
    return f"{sign}₹{','.join([*groups, tail])}.{rest:02d}"
