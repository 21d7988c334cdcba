"""Where the days go, per planted claim abuser, from the traces of `trace_abusers.py`, and
three counterfactuals read off the same scorings, each also read over every honest seller.

Per abuser (days after its first planted claim): dpd (deliveries a day), pre (deliveries before
its first planted claim, claims on them), lbf0 (the log factor its record held at its first
planted claim's scoring, signs included: what its honest weeks left it), 5th, bf (first scoring
at the alert's factor, guards aside), alert; then:

- fresh: the same test on its record from its first planted claim on (an onset nobody can
  know: what the honest weeks cost), against the spread read, signs as read;
- onset8 / onset18: the record from each Sunday after the world's start on, the factors
  averaged with the whole record's as `stats.onset_sequential_test` does, charged log(looks)
  (8 onsets: a 56-day horizon; 18: the 120-day window the seller test counts over), guards as
  the product's, at the product's level;
- lvl50 / lvl20: the whole test at a factor of 50 or 20 (guards kept);
- need: claims and deliveries from the first planted claim the record from it needs at the
  abuser's shown ratio against a binomial honest rate (expected log factor per delivery).

Honest sellers: how many ever reach each variant's alert (guards kept) of all honest sellers
with a scoring; and for the abusers the medians."""

import json
import math
import statistics
import sys
from datetime import datetime, timedelta

from services.fraud.detectors.stats import PeerSpread, Sequential, sequential_test

S = Sequential(alpha=0.01)


def lbf(k: float, n: float, rate: float, conc: float) -> float:
    return sequential_test(int(k), int(n), PeerSpread(rate, conc), S).log_bf


def sundays(start: datetime, end: datetime) -> list[datetime]:
    d = start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    d += timedelta(days=(6 - d.weekday()) % 7)
    out = []
    while d <= end:
        out.append(d)
        d += timedelta(days=7)
    return out


def main() -> None:
    rows = []
    honest_hits: dict[str, set[str]] = {}
    honest_all: set[str] = set()
    for path in sys.argv[1:]:
        d = json.load(open(path))
        w = d["world"]
        ents = {e["entity"].split(":")[1]: e for e in d["entities"]}
        planted = set(w.get("planted_sellers", [])) | set(w["abusers"])
        rets = w["returns"]
        by_seller: dict[str, list[tuple[datetime, datetime | None]]] = {}
        times = []
        for v in rets.values():
            if "delivered" not in v or not v.get("seller"):
                continue
            dl = datetime.fromisoformat(v["delivered"])
            cl = datetime.fromisoformat(v["claimed"]) if "claimed" in v else None
            by_seller.setdefault(v["seller"], []).append((dl, cl))
            times.append(dl)
        start, end = min(times), max(times)
        grid = sundays(start, end)

        def pre(s: str, onset: datetime, at: datetime) -> tuple[int, int]:
            n = k = 0
            for dl, cl in by_seller.get(s, []):
                if dl < onset and dl <= at:
                    n += 1
                    if cl is not None and cl <= at:
                        k += 1
            return k, n

        held: set[str] = set()

        def variants(r: dict, first: datetime | None) -> dict[str, bool]:
            q = r["seq"]
            at = datetime.fromisoformat(r["at"])
            s = r["seller"]
            guards = q["k"] >= q["min_events"] and q["n"] >= q["min_trials"]
            spell = not r.get("recent", {}).get("demoted", False)
            level = q["alert_at"]
            out = {"now": bool(r["alert_codes"])}
            # confirm: a factor at the alert's level on five claims that only the deliveries
            # guard held is remembered; the first later scoring past the guards alerts while the
            # factor is still at MEDIUM's level (20): every such alert follows a crossing of 100
            if q["log_bf"] >= level and q["k"] >= q["min_events"] and not guards:
                held.add(s)
            out["confirm"] = bool(r["alert_codes"]) or (
                s in held and guards and spell and q["log_bf"] >= math.log(20)
            )
            whole = q["log_bf"] - q["signs"]
            for looks in (8, 18):
                fs = [whole]
                for o in grid:
                    if o > at:
                        fs.append(0.0)  # an onset still ahead: its factor is 1
                        continue
                    kp, np_ = pre(s, o, at)
                    fs.append(lbf(max(q["k"] - kp, 0), max(q["n"] - np_, 0), q["rate"], q["conc"]))
                fs = fs[:looks]
                top = max(fs)
                comb = top + math.log(sum(math.exp(f - top) for f in fs)) - math.log(looks)
                out[f"onset{looks}"] = guards and spell and comb + q["signs"] >= level
            for lv in (50, 20):
                out[f"lvl{lv}"] = guards and spell and q["log_bf"] >= math.log(lv)
            if first is not None and at >= first:
                kp, np_ = pre(s, first, at)
                f = lbf(max(q["k"] - kp, 0), max(q["n"] - np_, 0), q["rate"], q["conc"])
                out["fresh"] = guards and spell and f + q["signs"] >= level
            return out

        recs: dict[str, list[dict]] = {}
        for r in d["records"]:
            if "seq" in r:
                recs.setdefault(r["seller"], []).append(r)
        # honest sellers: every variant's alert ever
        for s, rs in recs.items():
            if s in planted:
                continue
            honest_all.add(f"{d['seed']}:{s}")
            for r in rs:
                for name, hit in variants(r, None).items():
                    if hit:
                        honest_hits.setdefault(name, set()).add(f"{d['seed']}:{s}")
        for s in w["abusers"]:
            if s not in w["first_event"] or s not in ents:
                continue
            e = ents[s]
            first = datetime.fromisoformat(w["first_event"][s])
            dels = sorted(dl for dl, _ in by_seller.get(s, []))
            span = max((dels[-1] - dels[0]).total_seconds() / 86400, 1) if dels else 1
            kp0, np0 = pre(s, first, first)
            cl = sorted(c for _, c in by_seller.get(s, []) if c is not None)
            fifth = (cl[4] - first).total_seconds() / 86400 if len(cl) >= 5 else None
            t: dict[str, float] = {}
            lbf0 = None
            for r in recs.get(s, []):
                at = datetime.fromisoformat(r["at"])
                day = (at - first).total_seconds() / 86400
                q = r["seq"]
                if lbf0 is None and at >= first:
                    lbf0 = q["log_bf"]
                if q["log_bf"] >= q["alert_at"] and "bf" not in t:
                    t["bf"] = day
                for name, hit in variants(r, first).items():
                    if hit and name not in t:
                        t[name] = day
            x = e["intensity"] or 0
            need = None
            rate = statistics.median(r["seq"]["rate"] for r in recs.get(s, [])) if recs.get(s) else None
            if rate and x > 1 and x * rate < 1:
                per = x * rate * math.log(x) + (1 - x * rate) * math.log((1 - x * rate) / (1 - rate))
                need = math.log(100) / per
            rows.append(
                {
                    "seed": d["seed"],
                    "seller": s,
                    "shown": x,
                    "claims": e["events"],
                    "goal": x >= 2.5 and e["events"] >= 15,
                    "dpd": len(dels) / span,
                    "pre": f"{np0} ({kp0})",
                    "lbf0": lbf0,
                    "need": None if need is None else need,
                    "need_days": None if need is None else need / (len(dels) / span),
                    "fifth": fifth,
                    "bf": t.get("bf"),
                    "alert": t.get("now"),
                    "confirm": t.get("confirm"),
                    "fresh": t.get("fresh"),
                    "onset8": t.get("onset8"),
                    "onset18": t.get("onset18"),
                    "lvl50": t.get("lvl50"),
                    "lvl20": t.get("lvl20"),
                }
            )

    def cell(v: object) -> str:
        if v is None:
            return "–"
        if isinstance(v, bool):
            return "yes" if v else ""
        if isinstance(v, float):
            return f"{v:.1f}"
        return str(v)

    cols = list(rows[0].keys())
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(cell(r[c]) for c in cols) + " |")
    for label, sel in (("goal", lambda r: r["goal"]), ("all", lambda r: True)):
        g = [r for r in rows if sel(r)]
        parts = []
        for key in ("fifth", "need_days", "bf", "alert", "confirm", "fresh", "onset8", "onset18", "lvl50", "lvl20"):
            xs = [r[key] for r in g if isinstance(r[key], float)]
            parts.append(
                f"{key} {statistics.median(xs):.1f} ({len(xs)})" if xs else f"{key} – (0)"
            )
        print(f"\n{label}: {len(g)} abusers; medians (found): " + ", ".join(parts))
    print(
        f"\nhonest sellers with a scoring: {len(honest_all)}; ever alerted: "
        + ", ".join(f"{k} {len(v)}" for k, v in sorted(honest_hits.items()))
    )
    for k, v in sorted(honest_hits.items()):
        print(f"  {k}: {sorted(v)}")


if __name__ == "__main__":
    main()
