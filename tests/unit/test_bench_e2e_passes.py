"""The end-to-end benchmark's idle line and its passes side by side (pure figures)."""

from __future__ import annotations

from bench.e2e.run import idle_figures, side_by_side
from bench.e2e.settings import Settings


def test_the_idle_line_sums_services_and_postgres_and_keeps_kafka_apart() -> None:
    cores = {
        "intake": 0.002,
        "reconciliation": 0.011,
        "fraud": 0.006,
        "notifications": 0.008,
        "postgres": 0.004,
        "kafka": 0.3,  # not in the goal's sum
        "mailsink": 0.01,
        "load_generator": 0.2,
        "elapsed_s": 30.0,
        "machine_busy_cores": 1.8,
    }
    idle = idle_figures(cores)
    assert idle["services_and_postgres_cores"] == 0.031
    assert idle["within_goal"] is True
    assert idle["cores"]["kafka"] == 0.3 and "load_generator" not in idle["cores"]
    assert idle_figures({**cores, "notifications": 0.03})["within_goal"] is False


def _pass(mix: str, replicas: int, p95: float, cpu: float) -> dict:  # type: ignore[type-arg]
    return {
        "mix": mix,
        "replicas": replicas,
        "steps": [
            {
                "multiplier": 1.0,
                "escalation_to_decision_email": {
                    "p50_ms": p95 / 2,
                    "p95_ms": p95,
                    "p99_ms": p95 * 1.2,
                    "missing": 0,
                },
                "accepted": {"requests_per_s": 90.0},
                "offered": {"requests_per_s": 100.0},
                "cpu_ms_per_request": {"system_under_test": cpu},
                "cpu_ms_per_event": {"system_under_test": cpu / 2},
            }
        ],
    }


def test_passes_side_by_side_are_compared_with_the_same_mixs_first_pass() -> None:
    rows = side_by_side(
        [
            _pass("even", 1, 2000.0, 20.0),
            _pass("even", 2, 3000.0, 25.0),
            _pass("production", 1, 1000.0, 40.0),
            _pass("production", 2, 1500.0, 60.0),
        ]
    )
    (row,) = rows
    assert row["multiplier"] == 1.0
    got = {(q["mix"], q["replicas"]): q for q in row["passes"]}
    assert got[("even", 2)]["p95_to_first_pass_of_mix"] == 1.5
    assert got[("even", 2)]["cpu_to_first_pass_of_mix"] == 1.25
    assert got[("production", 2)]["p95_to_first_pass_of_mix"] == 1.5
    assert got[("production", 2)]["cpu_to_first_pass_of_mix"] == 1.5
    assert got[("even", 1)]["accepted_share"] == 0.9
    assert got[("production", 2)]["cpu_ms_per_event"] == 30.0


def test_every_mix_runs_with_every_process_count_a_mixs_counts_together() -> None:
    settings = Settings(mixes=("even", "production"), replicas=(1, 2))
    assert settings.passes() == [("even", 1), ("even", 2), ("production", 1), ("production", 2)]
