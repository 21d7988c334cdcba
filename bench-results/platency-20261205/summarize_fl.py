"""Fraud alone (bench/fraud_latency.py) A/B table: `python summarize_fl.py FA1 FB1 FA2 FB2`."""

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(labels: list[str]) -> None:
    print(
        "| run | step | escalation → assessment p50 / p95 (s) | queued p50 / p95 | own work p50 / "
        "p95 | rest of its transaction p50 / p95 | events in its transaction p50 | events per "
        "transaction | fraud CPU ms per event handled (handled of sent) | PostgreSQL CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label in labels:
        d = json.loads((HERE / f"{label}.json").read_text())
        for st in d["steps"]:
            e = st["escalation_event_to_assessment_published"]
            w = st["inside_fraud"]
            g = w["stages_ms"]

            def s(name: str) -> str:
                return f"{g[name]['p50_ms'] / 1000:.2f} / {g[name]['p95_ms'] / 1000:.2f}"

            print(
                f"| {label} | ×{st['multiplier']} | {e['p50_ms'] / 1000:.2f} / "
                f"{e['p95_ms'] / 1000:.2f} | {s('queued')} | {s('own_work')} | "
                f"{s('rest_of_batch')} | {w['events_in_its_transaction']['p50']:.0f} | "
                f"{w['events_per_transaction_mean']} | {st['fraud_cpu_ms_per_handled_event']} "
                f"({st['events_handled']} of {st['events']}) | {st['cpu_seconds']['postgres']} |"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
