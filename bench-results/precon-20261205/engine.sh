# engine LABEL DIR [PROFILE]: one bench/reconciliation.py run of the code in DIR, its json kept
engine() {  # label dir [profile]
  echo "$(date -u +%T) start $1 load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/runs.log
  ( cd "$2" && BENCH_RECON_PROFILE=${3:-} PYTHONPATH="$2" nice -n 5 $PY bench/reconciliation.py > /dev/null 2>> $OUT/engine-stderr.log )
  cp "$2/bench-results/reconciliation.json" "$OUT/engine-$1.json"
  $PY - "$OUT/engine-$1.json" "$1" >> $OUT/runs.log <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
e = r.get("engine", r)
def f(k):
    for d in (r, e):
        if isinstance(d, dict) and k in d: return d[k]
print(f"  {sys.argv[2]}: cpu/decision {f('process_cpu_ms_per_decision')} ms, pg {f('postgres_cpu_ms_per_decision')} ms, dec/s {f('decisions_per_s')}, raw {r.get('raw_consumer',{}).get('best', r.get('raw_consumer'))}, ratio {f('ratio')}, cores {f('cores_busy_while_deciding')}")
PYEOF
  echo "$(date -u +%T) end $1 load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/runs.log
}
