"""For runs without the JMX sampler (base-2, after-2: its class file was missing, so only
threads.py ran): the broker's CPU over the e2e step's window and the idle line from /proc,
total and the JIT compiler threads, per accepted request. usage: python analyze_threads.py LABEL..."""
import datetime as dt, json, re, sys

here = "/work/wt-pkafka/bench-results/pkafka-20261205g"


def stamp(log, pattern):
    hh = re.search(pattern, log).group(1)
    return dt.datetime.fromisoformat(f"{dt.date.today().isoformat()}T{hh}+00:00").timestamp()


def at(samples, t):
    return min(samples, key=lambda s: abs(s["t"] - t))


def jit(th):
    return sum(v for k, v in th.items() if "Compiler" in k or k.startswith("CN C"))


for label in sys.argv[1:]:
    log = open(f"{here}/{label}.log").read()
    e2e = json.load(open(f"{here}/e2e-{label}.json"))
    step = e2e["passes"][0]["steps"][0]
    start = stamp(log, r"\[(\d\d:\d\d:\d\d)\] step 1/1")
    end = start + step["cpu_cores_used"]["elapsed_s"]
    accepted = step["accepted"]["requests_per_s"] * (end - start)
    t = [json.loads(l) for l in open(f"{here}/threads-{label}.jsonl")]
    t0, t1 = at(t, start), at(t, end)
    scale = (end - start) / (t1["t"] - t0["t"])
    total = (sum(t1["threads"].values()) - sum(t0["threads"].values())) * scale
    j = (jit(t1["threads"]) - jit(t0["threads"])) * scale
    iend = stamp(log, r"\[(\d\d:\d\d:\d\d)\] idle:")
    i0, i1 = at(t, iend - 30), at(t, iend)
    isecs = i1["t"] - i0["t"]
    idle = (sum(i1["threads"].values()) - sum(i0["threads"].values())) / isecs
    ijit = (jit(i1["threads"]) - jit(i0["threads"])) / isecs
    e = step["escalation_to_decision_email"]
    print(f"{label}: accepted {step['accepted']['requests_per_s']}/s ({accepted:.0f}); broker CPU ms per accepted request {total*1000/accepted:.2f}, JIT {j*1000/accepted:.2f}, without JIT {(total-j)*1000/accepted:.2f}; idle broker {idle:.3f} cores (JIT {ijit:.3f}); e2e p50/p95 {e['p50_ms']}/{e['p95_ms']} ms ({e['count']}); e2e pipeline {step['cpu_ms_per_request']['system_under_test']} ms/req; load after {e2e['machine']['load_average_after']}")
