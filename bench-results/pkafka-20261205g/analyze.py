"""Per run label: the broker's requests by API and CPU by thread group over the e2e step's
window (from the step's start in the log for the step's elapsed seconds), per accepted request;
and the e2e's own figures. usage: python analyze.py LABEL [LABEL ...]"""
import datetime as dt, json, re, sys

here = "/work/wt-pkafka/bench-results/pkafka-20261205g"


def window(label):
    log = open(f"{here}/{label}.log").read()
    hh = re.search(r"\[(\d\d:\d\d:\d\d)\] step 1/1", log).group(1)
    day = dt.date.today().isoformat()
    start = dt.datetime.fromisoformat(f"{day}T{hh}+00:00").timestamp()
    e2e = json.load(open(f"{here}/e2e-{label}.json"))
    step = e2e["passes"][0]["steps"][0]
    elapsed = step["cpu_cores_used"]["elapsed_s"]
    return start, start + elapsed, step, e2e


def at(samples, t):
    return min(samples, key=lambda s: abs(s["t"] - t))


def group(name):
    for pat, g in [("network-thread", "network threads"), ("request-handler", "request handlers"),
                   ("group-coordinator", "group coordinator"), ("raft|quorum|metadata|controller", "KRaft/controller"),
                   ("RMI|JMX|Attach", "(meter's JMX)")]:
        if re.search(pat, name):
            return g
    return "other Java threads"


def native_group(name):
    if name.startswith("GC") or name.startswith("GN") or "G1" in name:
        return "GC"
    if "Compiler" in name or "CompilerThre" in name or name.startswith("CN C"):
        return "JIT"
    return None


for label in sys.argv[1:]:
    start, end, step, e2e = window(label)
    accepted = step["accepted"]["requests_per_s"] * (end - start)
    b = [json.loads(l) for l in open(f"{here}/broker-{label}.jsonl")]
    t = [json.loads(l) for l in open(f"{here}/threads-{label}.jsonl")]
    b0, b1, t0, t1 = at(b, start), at(b, end), at(t, start), at(t, end)
    secs = b1["t"] - b0["t"]
    print(f"## {label}: window {b0['t']-start:+.1f}..{b1['t']-end:+.1f} s, {secs:.0f} s, accepted {accepted:.0f} requests ({step['accepted']['requests_per_s']}/s), e2e cpu ms/req {step['cpu_ms_per_request']}")
    reqs = {k: b1["requests"].get(k, 0) - b0["requests"].get(k, 0) for k in b1["requests"]}
    # FetchConsumer is the consumers' share of Fetch, counted again by the broker.
    reqs.pop("FetchConsumer", None)
    tot = sum(reqs.values())
    print(f"requests per accepted request: total {tot/accepted:.2f}; " + ", ".join(
        f"{k} {v/accepted:.2f}" for k, v in sorted(reqs.items(), key=lambda kv: -kv[1]) if v))
    print(f"requests per second: total {tot/secs:.0f}; " + ", ".join(
        f"{k} {v/secs:.1f}" for k, v in sorted(reqs.items(), key=lambda kv: -kv[1]) if v))
    groups = {}
    for k, v in b1["threads"].items():
        groups[group(k)] = groups.get(group(k), 0) + v - b0["threads"].get(k, 0)
    tsecs = t1["t"] - t0["t"]
    proc = sum(t1["threads"].values()) - sum(t0["threads"].values())
    for k, v in t1["threads"].items():
        g = native_group(k)
        if g:
            groups[g] = groups.get(g, 0) + v - t0["threads"].get(k, 0)
    known = sum(groups.values())
    groups["VM/other native"] = proc * secs / tsecs - known
    print(f"broker CPU ms per accepted request: total {proc*1000/accepted*secs/tsecs:.2f}; " + ", ".join(
        f"{k} {v*1000/accepted:.3f}" for k, v in sorted(groups.items(), key=lambda kv: -kv[1])))
    warm = proc * secs / tsecs - groups.get("JIT", 0) - groups.get("(meter's JMX)", 0)
    print(f"broker CPU ms per accepted request without the JIT compiler and the meter: {warm*1000/accepted:.2f}")
    print(f"broker CPU ms per request served: {proc*1000/tot*secs/tsecs:.3f}")
    # The idle line: the 30 s before the log's "idle:" stamp.
    log = open(f"{here}/{label}.log").read()
    hh = re.search(r"\[(\d\d:\d\d:\d\d)\] idle:", log).group(1)
    iend = dt.datetime.fromisoformat(f"{dt.date.today().isoformat()}T{hh}+00:00").timestamp()
    i0, i1 = at(t, iend - 30), at(t, iend)
    ib0, ib1 = at(b, iend - 30), at(b, iend)
    isecs = ib1["t"] - ib0["t"]
    idle_cpu = (sum(i1["threads"].values()) - sum(i0["threads"].values())) / (i1["t"] - i0["t"])
    idle_jit = sum(v - i0["threads"].get(k, 0) for k, v in i1["threads"].items() if native_group(k) == "JIT") / (i1["t"] - i0["t"])
    ireqs = {k: (ib1["requests"].get(k, 0) - ib0["requests"].get(k, 0)) / isecs for k in ib1["requests"]}
    print(f"idle: broker {idle_cpu:.3f} cores (JIT {idle_jit:.3f}); requests/s " + ", ".join(
        f"{k} {v:.1f}" for k, v in sorted(ireqs.items(), key=lambda kv: -kv[1]) if v and k != "FetchConsumer"))
    e = step["escalation_to_decision_email"]
    print(f"p50/p95 {e['p50_ms']}/{e['p95_ms']} ({e['count']}); load after {e2e['machine']['load_average_after']}")
    print()
