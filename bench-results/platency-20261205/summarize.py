"""The A/B table of platency's e2e runs: `python summarize.py A1 B1 A2 B2` (JSON beside it)."""

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent


def s(ms: float | None) -> str:
    return "—" if ms is None else f"{ms / 1000:.2f}"


def main(labels: list[str]) -> None:
    print(
        "| run | mix | step | accepted / offered req/s | e2e p50 / p95 (s) | esc. published → "
        "assessed p50 / p95 | case decided minus assessed, at p50 / at p95 | opened p50 / p95 | "
        "CPU ms/event: fraud, reconciliation, system | done / missing |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label in labels:
        d = json.loads((HERE / f"{label}.json").read_text())
        for p in d["passes"]:
            for st in p["steps"]:
                e = st["escalation_to_decision_email"]
                g = st["escalation_stages"]
                fa = g["escalation_event→assessment_published"]
                assessed, decided = g["accepted→fraud_assessed"], g["accepted→case_decided"]
                opened = g["accepted→case_opened"]
                c = st["cpu_ms_per_event"]
                acc = st["accepted"]["requests_per_s"]
                off = st["offered"]["requests_per_s"]
                gap50 = (decided["p50_ms"] or 0) - (assessed["p50_ms"] or 0)
                gap95 = (decided["p95_ms"] or 0) - (assessed["p95_ms"] or 0)
                print(
                    f"| {label} | {p['mix']} | ×{st['multiplier']} | {acc:.0f} / {off:.0f} | "
                    f"{s(e['p50_ms'])} / {s(e['p95_ms'])} | {s(fa['p50_ms'])} / {s(fa['p95_ms'])} | "
                    f"{s(gap50)} / {s(gap95)} | {s(opened['p50_ms'])} / {s(opened['p95_ms'])} | "
                    f"{c['fraud']}, {c['reconciliation']}, {c['system_under_test']} | "
                    f"{e['count']} / {e['missing']} |"
                )
        la = d["passes"][-1].get("load_average_after")
        print(f"<!-- {label}: load after {la} -->")


if __name__ == "__main__":
    main(sys.argv[1:])
