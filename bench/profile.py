"""Flame graphs of each service under the end-to-end load: `bash scripts/profile.sh [LABEL]`,
or the `profile` section of `make bench` (after `e2e`; folder `latest` unless
`BENCH_PROFILE_LABEL` names another).

Runs the e2e benchmark's own system (fresh databases, topics, the four services as uvicorn
processes) for one load step, `BENCH_PROFILE_MULTIPLIER` (1) × the goal load for
`BENCH_PROFILE_STEP_S` (20) seconds, and attaches py-spy to each service process for exactly
that step. py-spy samples without pausing the process (`--nonblocking`), so the profile costs the
service almost nothing; only threads that are running are sampled (no `--idle`), so the sample
counts are CPU, not wall time. `BENCH_PROFILE_NATIVE=1` adds the C frames (the event loop,
asyncpg's and uvloop's own code), pausing the process per sample to read them.

Per service it writes, under `bench-results/profiles/<LABEL>/`:
  <service>.svg        the flame graph (py-spy's own SVG, open in a browser);
  <service>.txt        the collapsed stacks (py-spy's raw format; `speedscope` opens them too);
and `summary.json` / `summary.md`: the hottest frames per service, by self samples (where the
CPU is spent) and by inclusive samples in this project's own code (which of our functions the
time is spent under), each as a share of the service's samples.

The e2e step's own figures (accepted rate, CPU per request) are in `summary.json` too, so a
profile names the load it was taken under. Attaching needs ptrace permission
(CAP_SYS_PTRACE, or kernel.yama.ptrace_scope 0); without it py-spy reports that it cannot attach.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.e2e.settings import RESULTS, SERVICES, Settings

RATE_HZ = 100
NATIVE = os.environ.get("BENCH_PROFILE_NATIVE", "0") == "1"
TOP = 12
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
# Frames of this project's own code (the rest is the interpreter, libraries, the event loop).
_OURS = ("services/", "shared/")


def _py_spy() -> str:
    here = Path(sys.executable).with_name("py-spy")
    found = str(here) if here.exists() else shutil.which("py-spy")
    if not found:
        raise SystemExit("py-spy is not installed: `pip install py-spy` (the bench extra has it)")
    return found


def _service_pids(ports: dict[str, int]) -> dict[str, int]:
    """The uvicorn process serving each service's port, found by its command line."""
    import psutil

    wanted = {str(port): name for name, port in ports.items()}
    found: dict[str, int] = {}
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info["cmdline"] or []
        if "uvicorn" not in cmd or "--port" not in cmd:
            continue
        port = cmd[cmd.index("--port") + 1] if cmd.index("--port") + 1 < len(cmd) else ""
        if port in wanted and any(f"services.{wanted[port]}.app" in c for c in cmd):
            found[wanted[port]] = proc.pid
    return found


def _frame_key(frame: str) -> str:
    """`func (file:line)` → `func (file)`: one row per function, whatever line was running."""
    m = _FRAME.match(frame)
    return f"{m['func']} ({m['file']})" if m else frame


def _in_the_loop(frames: list[str]) -> bool:
    """A sample in the event loop's own C code (uvloop's, or the drivers' Cython called from
    it): waiting in epoll as often as working, so it is reported apart, not ranked."""
    return not frames or frames[-1].startswith("Runner.run ") or "(libc" in frames[-1]


def summarise(collapsed: str) -> dict[str, Any]:
    """Self and inclusive samples per function from py-spy's collapsed stacks, as shares of the
    samples that ran Python code (`busy`); the event loop's own share is reported apart."""
    own: Counter[str] = Counter()
    inclusive_ours: Counter[str] = Counter()
    total = busy = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        # `--threads` puts the thread first; a sample with no Python frame at all is a thread
        # running native code only (the event loop between callbacks, the garbage collector).
        frames = [_frame_key(f) for f in stack.split(";") if f and not f.startswith("thread (")]
        if _in_the_loop(frames):
            continue
        busy += n
        own[frames[-1]] += n
        for key in set(frames):
            if any(part in key for part in _OURS):
                inclusive_ours[key] += n

    def top(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"frame": k, "samples": v, "share": round(v / busy, 3) if busy else 0.0}
            for k, v in counter.most_common(TOP)
        ]

    return {
        "samples": total,
        "busy_samples": busy,
        "event_loop_share": round(1 - busy / total, 3) if total else 0.0,
        "self": top(own),
        "inclusive_ours": top(inclusive_ours),
    }


def _record(pid: int, seconds: float, out: Path, fmt: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            _py_spy(),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(int(seconds), 1)),
            "--rate",
            str(RATE_HZ),
            *(
                # Native frames (the event loop's and the drivers' C code) need the process
                # paused per sample: py-spy cannot unwind them without.
                ["--native"] if NATIVE else ["--nonblocking"]
            ),
            "--threads",
            "--format",
            fmt,
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _markdown(label: str, summaries: dict[str, Any]) -> str:
    lines = [f"# Profiles `{label}`", ""]
    for name, s in summaries.items():
        lines += [
            f"## {name} ({s['samples']} samples at {RATE_HZ} Hz; {s['event_loop_share']:.0%} "
            f"in the event loop's own code, the shares below are of the other "
            f"{s['busy_samples']})",
            "",
        ]
        lines += ["| self | frame |", "|---|---|"]
        lines += [f"| {r['share']:.1%} | `{r['frame']}` |" for r in s["self"]]
        lines += ["", "| inclusive | our frame |", "|---|---|"]
        lines += [f"| {r['share']:.1%} | `{r['frame']}` |" for r in s["inclusive_ours"]]
        lines.append("")
    return "\n".join(lines)


def main(env: dict[str, str] | None = None, label: str | None = None) -> dict[str, Any]:
    """One profiled e2e step; `env` is the stack's (as `python -m bench` passes it), or the
    stack is brought up here. The folder is `label`, by default `latest`."""
    from bench.e2e.run import measure
    from disputedesk.stack import Stack

    label = label or os.environ.get("BENCH_PROFILE_LABEL") or "latest"

    multiplier = float(os.environ.get("BENCH_PROFILE_MULTIPLIER", "1"))
    step_s = float(os.environ.get("BENCH_PROFILE_STEP_S", "20"))
    # The e2e run reads its steps from the environment: one step, the one profiled.
    os.environ["BENCH_E2E_MULTIPLIERS"] = f"{multiplier:g}"
    os.environ["BENCH_E2E_STEP_S"] = f"{step_s:g}"
    out_dir = RESULTS / "profiles" / label
    out_dir.mkdir(parents=True, exist_ok=True)
    ports = Settings.from_env().ports()
    recorders: list[tuple[str, subprocess.Popen[bytes]]] = []

    def log(line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)
        # The run announces each step as it starts it: attach then, for the step's length.
        if line.startswith("step 1/"):
            pids = _service_pids(ports)
            missing = [n for n in SERVICES if n not in pids]
            if missing:
                print(f"  no process found for {', '.join(missing)}", flush=True)
            for name, pid in pids.items():
                recorders.append(
                    (name, _record(pid, step_s, out_dir / f"{name}.svg", "flamegraph"))
                )
                recorders.append((name, _record(pid, step_s, out_dir / f"{name}.txt", "raw")))

    if env is None:
        stack = Stack.from_env()
        env = dict(stack.up())
        stack.apply_topics(env)
    result = asyncio.run(measure(env, log))
    failed = []
    for name, proc in recorders:
        _, err = proc.communicate(timeout=120)
        if proc.returncode:
            failed.append(f"{name}: {err.decode(errors='replace').strip()[-300:]}")
    summaries = {
        name: summarise((out_dir / f"{name}.txt").read_text())
        for name in SERVICES
        if (out_dir / f"{name}.txt").exists()
    }
    step = result["steps"][0] if result["steps"] else {}
    summary = {
        "label": label,
        "measured_at": result["measured_at"],
        "multiplier": multiplier,
        "step_seconds": step_s,
        "rate_hz": RATE_HZ,
        "accepted": step.get("accepted"),
        "cpu_ms_per_accepted_request": step.get("cpu_ms_per_request"),
        "machine_busy_cores": (step.get("cpu_cores_used") or {}).get("machine_busy_cores"),
        "baselines": {
            "bare_fastapi_requests_per_s": result["baselines"]["bare_fastapi"].get(
                "saturated_requests_per_s"
            )
        },
        "profiles": summaries,
        "recorder_failures": failed,
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    (out_dir / "summary.md").write_text(_markdown(label, summaries))
    print(_markdown(label, summaries))
    if failed:
        print("py-spy failed for: " + "; ".join(failed), file=sys.stderr)
    print(f"wrote {out_dir}")
    return summary


def resummarise(label: str) -> None:
    """Rewrite summary.md of a profile folder from its collapsed stacks."""
    out_dir = RESULTS / "profiles" / label
    summaries = {
        name: summarise((out_dir / f"{name}.txt").read_text())
        for name in SERVICES
        if (out_dir / f"{name}.txt").exists()
    }
    (out_dir / "summary.md").write_text(_markdown(label, summaries))
    summary_file = out_dir / "summary.json"
    if summary_file.exists():
        summary = json.loads(summary_file.read_text())
        summary["profiles"] = summaries
        summary_file.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--summarise"]:
        for folder in sys.argv[2:]:
            resummarise(folder)
    else:
        main(label=sys.argv[1] if len(sys.argv) > 1 else None)
