"""Samples a JVM's CPU per thread (Linux /proc/<pid>/task/*/stat, utime+stime) once a second
and writes JSON lines {t, threads: {name: cpu_s}} until killed; threads with one name summed
with their digits dropped (data-plane-kafka-request-handler-3 -> data-plane-kafka-request-handler-N).
usage: python threads.py PID OUT.jsonl"""
import json, os, re, sys, time

pid, out = int(sys.argv[1]), sys.argv[2]
tick = os.sysconf("SC_CLK_TCK")
with open(out, "a") as f:
    while os.path.exists(f"/proc/{pid}"):
        sums = {}
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                raw = open(f"/proc/{pid}/task/{tid}/stat").read()
            except OSError:
                continue
            name = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2 :].split()
            cpu = (int(fields[11]) + int(fields[12])) / tick
            key = re.sub(r"\d+", "N", name)
            sums[key] = sums.get(key, 0.0) + cpu
        f.write(json.dumps({"t": time.time(), "threads": sums}) + "\n")
        f.flush()
        time.sleep(1.0)
