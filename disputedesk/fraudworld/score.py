"""What fraud says about the world, read over the public APIs and scored against the truth.

- **Events** are the world's claims. A claim's assessment is fraud's current one of its
  `SellerEscalationFiled` (found through the case's facts at reconciliation, then read from
  fraud's `GET /v1/assessments/{event_id}`: its latest revision). Recall of a pattern: planted
  claims of it scored `HIGH`. Precision: of the `HIGH` claims whose reasons point at the
  pattern, those planted.
- A `HIGH` attributed to a pattern counts as right when what it flags is planted fraud of any
  pattern (a ring's buyer flagged as a wrong/used buyer is no false alarm);
  `precision_same_pattern` counts only the pattern's own.
- **Entities** are every seller, buyer, hub and agent of the traffic. One is *flagged* when fraud
  has it `HIGH` at the end (`GET /v1/risk/...`) or an open `HIGH` alert on it; *ever* when any
  point of its risk history was `HIGH`. Recall: planted entities flagged (for any reason);
  precision: of the flagged entities of the pattern's types whose reasons or alerts point at
  the pattern, those planted.
- **Days to the alert**: from a found entity's first planted event to its first `HIGH`, both in
  world time: a risk point's subject event is placed by its return (a claim at the claim's world
  time, a scan at its own time); an alert by the world time the replay had reached when it was
  raised.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from disputedesk.fraudworld.traffic import Sent
from disputedesk.fraudworld.world import ENTITY_TYPES, PATTERNS, World

# The entity types each pattern is planted on (fraud.md's "who").
PATTERN_TYPES = {
    "claim_abuse": ("seller",),
    "evidence_reuse": ("seller",),
    "wrong_used": ("buyer",),
    "pilferage": ("hub", "agent"),
    "qc_contradiction": ("agent",),
    "collusion": ("seller", "buyer", "agent"),
}
LABELS = {
    "claim_abuse": "claim abuse",
    "evidence_reuse": "evidence reuse",
    "wrong_used": "wrong/used returns",
    "pilferage": "pilferage",
    "qc_contradiction": "QC contradiction",
    "collusion": "collusion",
}


def pattern_of(code: str) -> str | None:
    """The pattern a reason code (or an alert's pattern) speaks of, by its words. Codes that
    speak of no pattern (a watchlist, an entity's risk carried over) are None."""
    c = code.upper()
    if "EVIDENCE" in c:
        return "evidence_reuse"
    if "COLLU" in c or "SHARED_" in c:
        return "collusion"
    if "QC" in c:
        return "qc_contradiction"
    if "PILF" in c:
        return "pilferage"
    # A seller's or a claim's own signs (a MISSING_ITEM claim whose weight arrived intact is
    # the seller's sign, not a weight drop).
    if c.startswith(("SELLER_", "CLAIM_")):
        return "claim_abuse"
    if c.startswith("BUYER_") or "WRONG_USED" in c:
        return "wrong_used"
    if any(w in c for w in ("WEIGHT_DROP", "LOSS", "LOST", "DAMAGE", "TRANSIT")):
        return "pilferage"
    return None


def _codes(reasons: list[dict[str, Any]] | None) -> list[str]:
    return [str(r.get("code")) for r in reasons or [] if r.get("code")]


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 2) if den else None


THROTTLED_WAIT_S = 600.0


def _retry_after(response: httpx.Response) -> float:
    """The seconds a 429 or 503 asks for (1 when it names none or something unreadable)."""
    try:
        return min(max(float(response.headers.get("retry-after", "1")), 0.1), 30.0)
    except ValueError:
        return 1.0


class Reader:
    """GETs over the services' APIs with an ops key, a few at a time, retrying what fails."""

    def __init__(self, fraud: httpx.AsyncClient, desk: httpx.AsyncClient, key: str) -> None:
        self.fraud = fraud
        self.desk = desk
        self.headers = {"authorization": f"Bearer {key}"}
        self.gate = asyncio.Semaphore(12)

    async def get(self, client: httpx.AsyncClient, url: str, **params: Any) -> Any:
        # A scorer reading every entity's risk asks thousands of times in a minute: the API's
        # rate limit answers 429 with Retry-After, which is the API working, so it is waited
        # out without spending an attempt (up to `THROTTLED_WAIT_S` in all); only other failures
        # count against the eight attempts.
        attempt, throttled_s, last = 0, 0.0, "no answer"
        while attempt < 8:
            try:
                async with self.gate:
                    response = await client.get(url, params=params, headers=self.headers)
            except httpx.TransportError as exc:
                last = type(exc).__name__
                attempt += 1
                await asyncio.sleep(0.5 * attempt)
                continue
            if response.status_code == 404:
                return None
            if response.status_code < 300:
                return response.json()
            last = str(response.status_code)
            if response.status_code in (429, 503) and throttled_s < THROTTLED_WAIT_S:
                wait = _retry_after(response)
                throttled_s += wait
                await asyncio.sleep(wait)
                continue
            attempt += 1
            await asyncio.sleep(0.5 * attempt)
        raise RuntimeError(f"GET {url} kept failing (last answer: {last})")

    async def pages(self, client: httpx.AsyncClient, url: str, **params: Any) -> list[Any]:
        items: list[Any] = []
        cursor = None
        while True:
            page = await self.get(
                client, url, limit=500, **params, **({"cursor": cursor} if cursor else {})
            )
            items += page["items"]
            cursor = page.get("next")
            if not cursor:
                return items


def _world_time_of_wall(sent: Sent, wall: datetime, world: World) -> datetime:
    stamp = wall.timestamp()
    for when, reached in sent.checkpoints:
        if when >= stamp:
            return datetime.fromisoformat(reached)
    return world.end


async def score(
    world: World, sent: Sent, reader: Reader, *, say: Callable[[str], None] = print
) -> dict[str, Any]:
    # -- events: every claim's current assessment ----------------------------------------
    say("score: reading cases and their claims' assessments")
    claims = {r.return_id: (r, c) for r, c in world.claims}
    cases = [c for c in await reader.pages(reader.desk, "/v1/cases") if c["return_id"] in claims]
    case_of = {c["return_id"]: c for c in cases}

    async def claim_assessment(return_id: str) -> dict[str, Any] | None:
        case = case_of.get(return_id)
        if case is None:
            return None
        detail = await reader.get(reader.desk, f"/v1/cases/{case['case_id']}")
        rows = [
            a
            for a in (detail or {}).get("facts", {}).get("fraud_assessments", [])
            if a.get("escalation_id")
        ]
        if not rows:
            return {"band": case.get("fraud_band"), "reasons": [], "via": "case"}
        subject = rows[-1]["subject_event_id"]
        current = await reader.get(reader.fraud, f"/v1/assessments/{subject}")
        return current or {"band": rows[-1].get("band"), "reasons": rows[-1].get("reasons")}

    returns = list(claims)
    found = await asyncio.gather(*(claim_assessment(r) for r in returns))
    assessed = {r: a for r, a in zip(returns, found, strict=True) if a is not None}
    say(f"score: {len(cases)} cases, {len(assessed)} claims assessed of {len(claims)}")

    fraud_entities = world.fraud_entities()

    def all_honest(r_id: str) -> bool:
        r, _ = claims[r_id]
        parties = (
            ("seller", r.seller),
            ("buyer", r.buyer),
            ("hub", r.origin_hub),
            ("hub", r.dest_hub),
            ("agent", r.agent),
        )
        return not any(eid in fraud_entities[t] for t, eid in parties if eid)

    events: dict[str, Any] = {}
    missed_events: dict[str, Counter[str]] = {p: Counter() for p in PATTERNS}
    for p in PATTERNS:
        planted = [r for r in assessed if p in claims[r][1].patterns]
        high = [r for r in planted if assessed[r].get("band") == "HIGH"]
        attributed = [
            r
            for r, a in assessed.items()
            if a.get("band") == "HIGH" and p in {pattern_of(c) for c in _codes(a.get("reasons"))}
        ]
        right = [r for r in attributed if claims[r][1].patterns]
        same_claims = [r for r in attributed if p in claims[r][1].patterns]
        events[p] = {
            "planted": len(planted),
            "high": len(high),
            "recall": _ratio(len(high), len(planted)),
            "attributed_high": len(attributed),
            "precision": _ratio(len(right), len(attributed)),
            "precision_same_pattern": _ratio(len(same_claims), len(attributed)),
        }
        for r in planted:
            if r not in high:
                a = assessed[r]
                codes = _codes(a.get("reasons")) or ["(no reason)"]
                missed_events[p][f"{a.get('band')}: {'+'.join(sorted(set(codes)))}"] += 1
    honest = [r for r in assessed if not claims[r][1].patterns]
    honest_high = [r for r in honest if assessed[r].get("band") == "HIGH"]
    pure = [r for r in honest if all_honest(r)]
    pure_high = [r for r in pure if assessed[r].get("band") == "HIGH"]
    # Every HIGH claim's reason codes by what it really is: what the attribution rests on.
    high_by_truth: dict[str, Counter[str]] = {}
    for r, a in assessed.items():
        if a.get("band") == "HIGH":
            label = "+".join(sorted(claims[r][1].patterns)) or "honest"
            high_by_truth.setdefault(label, Counter()).update(set(_codes(a.get("reasons"))))
    false_event_reasons: Counter[str] = Counter(
        c for r in honest_high for c in set(_codes(assessed[r].get("reasons")))
    )

    # -- entities: risk at the end, history, alerts ----------------------------------------
    say("score: reading alerts and every entity's risk")
    alerts = await reader.pages(reader.fraud, "/v1/alerts")
    alerts_of: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for a in alerts:
        alerts_of.setdefault((a["entity_type"], a["entity_id"]), []).append(a)

    keys = [(t, e) for t in ENTITY_TYPES for e in sorted(world.entities[t])]
    risks = await asyncio.gather(
        *(reader.get(reader.fraud, f"/v1/risk/{t}/{e}", history_limit=500) for t, e in keys)
    )
    risk = dict(zip(keys, risks, strict=True))

    return_world_time: dict[str, datetime] = {
        r.return_id: r.claim.filed_at for r in world.returns if r.claim is not None
    }

    async def first_high(key: tuple[str, str]) -> datetime | None:
        """The world time of the entity's first HIGH: risk history or a HIGH alert."""
        times: list[datetime] = []
        points = [p for p in (risk[key] or {}).get("history", []) if p.get("band") == "HIGH"]
        if points:
            first = min(points, key=lambda p: p["as_of"])
            subject = first.get("subject_event_id")
            a = await reader.get(reader.fraud, f"/v1/assessments/{subject}") if subject else None
            if a is not None and a.get("escalation_id") and a["return_id"] in return_world_time:
                times.append(return_world_time[a["return_id"]])
            elif a is not None and a.get("event_time"):
                times.append(datetime.fromisoformat(a["event_time"]))
            else:
                times.append(
                    _world_time_of_wall(sent, datetime.fromisoformat(first["as_of"]), world)
                )
        for alert in alerts_of.get(key, []):
            if alert.get("severity") == "HIGH":
                times.append(
                    _world_time_of_wall(sent, datetime.fromisoformat(alert["raised_at"]), world)
                )
        return min(times) if times else None

    def state(key: tuple[str, str]) -> dict[str, Any]:
        r = risk[key] or {}
        open_high = [
            a
            for a in alerts_of.get(key, [])
            if a.get("severity") == "HIGH" and a.get("status") in ("open", "acknowledged")
        ]
        ever = any(p.get("band") == "HIGH" for p in r.get("history", [])) or any(
            a.get("severity") == "HIGH" for a in alerts_of.get(key, [])
        )
        codes = _codes(r.get("reasons")) + [str(a["pattern"]) for a in alerts_of.get(key, [])]
        return {
            "band": r.get("band", "LOW"),
            "flagged": r.get("band") == "HIGH" or bool(open_high),
            "ever": ever or r.get("band") == "HIGH",
            "codes": codes,
            "patterns": {p for p in (pattern_of(c) for c in codes) if p},
        }

    states = {k: state(k) for k in keys}
    entities: dict[str, Any] = {}
    days: dict[str, list[float]] = {p: [] for p in PATTERNS}
    missed_entities: dict[str, list[str]] = {p: [] for p in PATTERNS}
    for p in PATTERNS:
        truth = {(t, e) for t in PATTERN_TYPES[p] for e in world.truth[p][t]}
        flagged = [k for k in truth if states[k]["flagged"]]
        predicted = [
            k
            for k in keys
            if k[0] in PATTERN_TYPES[p] and states[k]["flagged"] and p in states[k]["patterns"]
        ]
        correct = [k for k in predicted if k[1] in fraud_entities[k[0]]]
        same = [k for k in predicted if k in truth]
        entities[p] = {
            "planted": len(truth),
            "flagged": len(flagged),
            "recall": _ratio(len(flagged), len(truth)),
            "attributed": len(predicted),
            "precision": _ratio(len(correct), len(predicted)),
            "precision_same_pattern": _ratio(len(same), len(predicted)),
        }
        for k in sorted(truth):
            when = await first_high(k) if states[k]["ever"] else None
            first = world.first_planted.get(k)
            if when is not None and first is not None:
                days[p].append(max(0.0, (when - first) / timedelta(days=1)))
            if not states[k]["flagged"]:
                s = states[k]
                missed_entities[p].append(
                    f"{k[0]} {k[1]}: {s['band']} {'+'.join(sorted(set(s['codes']))) or '-'}"
                )
        entities[p]["median_days_to_alert"] = (
            round(statistics.median(days[p]), 1) if days[p] else None
        )
        entities[p]["found_with_time"] = len(days[p])

    honest_by_type: dict[str, Any] = {}
    false_entities: list[str] = []
    for t in ENTITY_TYPES:
        honest_keys = [k for k in keys if k[0] == t and k[1] not in fraud_entities[t]]
        now = [k for k in honest_keys if states[k]["flagged"]]
        ever = [k for k in honest_keys if states[k]["ever"]]
        honest_by_type[t] = {
            "honest": len(honest_keys),
            "flagged": len(now),
            "ever_high": len(ever),
        }
        for k in ever:
            look = world.lookalikes[t].get(k[1])
            false_entities.append(
                f"{t} {k[1]}{f' ({look})' if look else ''}: "
                f"{'flagged' if states[k]['flagged'] else 'HIGH once, cleared'} "
                f"{'+'.join(sorted(set(states[k]['codes']))) or '-'}"
            )
    lookalikes = {
        f"{t} {eid} ({what})": states[(t, eid)]["band"]
        + (
            " + HIGH alert"
            if any(a.get("severity") == "HIGH" for a in alerts_of.get((t, eid), []))
            else ""
        )
        for t, by in world.lookalikes.items()
        for eid, what in by.items()
        if (t, eid) in states
    }
    raw = {
        "claims": {
            r: {
                "band": a.get("band"),
                "codes": sorted(set(_codes(a.get("reasons")))),
                "planted": sorted(claims[r][1].patterns),
            }
            for r, a in assessed.items()
        },
        "entities": {
            f"{k[0]} {k[1]}": {
                "band": s["band"],
                "flagged": s["flagged"],
                "ever": s["ever"],
                "codes": sorted(set(s["codes"])),
            }
            for k, s in states.items()
            if s["band"] != "LOW" or s["ever"] or s["codes"]
        },
    }
    return {
        "raw": raw,
        "events": events,
        "entities": entities,
        "honest_escalations": {
            "honest": len(honest),
            "high": len(honest_high),
            "all_parties_honest": len(pure),
            "all_parties_honest_high": len(pure_high),
        },
        "honest_entities": honest_by_type,
        "lookalikes": lookalikes,
        "alerts": Counter(f"{a['pattern']} {a['severity']}" for a in alerts),
        "missed_events": {p: dict(c.most_common(8)) for p, c in missed_events.items()},
        "missed_entities": missed_entities,
        "false_event_reasons": dict(false_event_reasons.most_common(12)),
        "high_events_by_truth": {t: dict(c.most_common(10)) for t, c in high_by_truth.items()},
        "false_entities": false_entities,
        "unattributed_codes": sorted(
            {c for s in states.values() for c in s["codes"] if pattern_of(c) is None}
            | {
                c
                for a in assessed.values()
                for c in _codes(a.get("reasons"))
                if pattern_of(c) is None
            }
        ),
    }


def table(result: dict[str, Any]) -> str:
    """The issue's table: per pattern, event P / R and entity P / R, and the honest figures."""

    def pr(p: float | None, r: float | None) -> str:
        return f"{'—' if p is None else f'{p:.2f}'} / {'—' if r is None else f'{r:.2f}'}"

    lines = [
        "| pattern | event P / R | entity P / R | planted claims / entities "
        "| median days to alert |",
        "|---|---|---|---|---|",
    ]
    for p in PATTERNS:
        e, n = result["events"][p], result["entities"][p]
        lines.append(
            f"| {LABELS[p]} | {pr(e['precision'], e['recall'])} | "
            f"{pr(n['precision'], n['recall'])} | {e['planted']} / {n['planted']} | "
            f"{'—' if n['median_days_to_alert'] is None else n['median_days_to_alert']} |"
        )
    h = result["honest_escalations"]
    lines.append("")
    lines.append(
        "Honest entities flagged (HIGH at the end; ever HIGH): "
        + ", ".join(
            f"{t} {v['flagged']} of {v['honest']} ({v['ever_high']})"
            for t, v in result["honest_entities"].items()
        )
    )
    lines.append(
        f"Honest escalations HIGH: {h['high']} of {h['honest']}; where every party is honest "
        f"{h['all_parties_honest_high']} of {h['all_parties_honest']}."
    )
    return "\n".join(lines)
