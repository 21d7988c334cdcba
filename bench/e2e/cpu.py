"""CPU used by each service, Kafka, PostgreSQL and the load generator."""

from __future__ import annotations

import os
import resource
import time
from collections import defaultdict

from bench.e2e.system import Services
from bench.e2e.watchers import Observations


def _stack_processes_cpu() -> dict[str, float]:
    """CPU seconds of this stack's Kafka, PostgreSQL (server and backends) and mail sink,
    found by the state folder in their command lines: the machine runs other stacks too."""
    import psutil

    state = os.environ.get("DISPUTEDESK_STATE_DIR", "")
    out: dict[str, float] = defaultdict(float)
    if not state:
        return {}
    for proc in psutil.process_iter(["cmdline", "name"]):
        try:
            args = proc.info["cmdline"] or []
            cmdline = " ".join(args)
            if state not in cmdline:
                continue
            name = proc.info["name"] or ""
            # The broker by its main class: "kafka" anywhere in the command line also matched
            # PostgreSQL, whose server runs from the virtualenv, in a checkout whose path has
            # the word in it.
            kind = (
                "kafka"
                if "kafka.Kafka" in args
                else "postgres"
                if name.startswith("postgres")
                else "mailsink"
                if "mailsink" in cmdline
                else None
            )
            if kind is None:
                continue
            # The process's reaped children too: PostgreSQL's backend of a connection closed
            # during the run (one the pool dropped, an overflow connection) took its CPU out of
            # the live processes below, and counting only those charged it to no component
            # (before 2026-12-04 it fell into `other_processes_cores`, and a run that closed
            # connections showed a PostgreSQL cheaper than it was).
            own = proc.cpu_times()
            out[kind] += own.children_user + own.children_system
            for p in (proc, *proc.children(recursive=True)):
                times = p.cpu_times()
                out[kind] += times.user + times.system
        except psutil.Error:
            continue
    return dict(out)


class CpuMeter:
    """CPU seconds of each component since the meter was made, and the machine's busy cores:
    the services, this stack's Kafka and PostgreSQL, this load generator, everything else."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.started = time.monotonic()
        self.base = self._totals()

    def _totals(self) -> dict[str, float]:
        busy, total = _machine_busy()
        return {
            **self.services.cpu_seconds(),
            **_stack_processes_cpu(),
            "load_generator": _own_cpu(),
            "_machine_busy": busy,
            "_machine_total": total,
        }

    def read(self) -> dict[str, float]:
        """Cores used per component since the start (seconds of CPU per second), plus
        `elapsed_s`, `machine_busy_cores` and `other_processes_cores`."""
        now = self._totals()
        elapsed = max(time.monotonic() - self.started, 1e-9)
        cores = {
            k: (now[k] - self.base.get(k, 0.0)) / elapsed for k in now if not k.startswith("_")
        }
        share = (now["_machine_busy"] - self.base["_machine_busy"]) / max(
            now["_machine_total"] - self.base["_machine_total"], 1e-9
        )
        machine = share * (os.cpu_count() or 1)
        return {
            **cores,
            "elapsed_s": elapsed,
            "machine_busy_cores": machine,
            "other_processes_cores": max(machine - sum(cores.values()), 0.0),
        }


def cpu_ms_per_request(cores: dict[str, float], accepted: int) -> dict[str, float]:
    """From cores used over a period and the requests accepted in it: CPU milliseconds per
    request per component, their sum, and the request rate that sum allows on this machine's
    cores if nothing else ran ("projected_requests_per_s")."""
    if not cores or not accepted:
        return {}
    elapsed = cores["elapsed_s"]
    skip = {"elapsed_s", "machine_busy_cores", "other_processes_cores"}
    per = {k: v * elapsed * 1000 / accepted for k, v in cores.items() if k not in skip}
    ours = sum(v for k, v in per.items() if k != "load_generator")
    out = {k: round(v, 2) for k, v in per.items()}
    out["system_under_test"] = round(ours, 2)
    out["projected_requests_per_s"] = round((os.cpu_count() or 1) * 1000 / ours, 1) if ours else 0
    return out


def _acceptances(obs: Observations, step: int) -> list[tuple[float, int]]:
    return [
        v for v in (*obs.scan_accepted.values(), *obs.escalation_accepted.values()) if v[1] == step
    ]


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _machine_busy() -> tuple[float, float]:
    import psutil

    t = psutil.cpu_times()
    idle = t.idle + getattr(t, "iowait", 0.0)
    return sum(t) - idle, sum(t)
