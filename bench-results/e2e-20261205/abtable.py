import json,os
print("| run | accepted of offered req/s | p95 | intake | reconciliation | fraud | notifications | Kafka | PostgreSQL | pipeline (services, mail sink, Kafka, PostgreSQL) | other processes (cores) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for i in (1,2):
    for side in ("base","main"):
        f=f"/work/notes/w13/e2e-{side}-{i}.json"
        if not os.path.exists(f): continue
        d=json.load(open(f)); s=d["steps"][0]; c=s["cpu_ms_per_request"]
        acc=s.get("accepted_requests_per_s") or s.get("accepted_per_s")
        keys=[k for k in s if 'accept' in k or 'offered' in k or 'p95' in k]
        print(f"| {side}-{i} | {s['accepted']['requests_per_s']} of {s['offered']['requests_per_s']} | {s['escalation_to_decision_email']['p95_ms']/1000:.2f} s | {c['intake']} | {c['reconciliation']} | {c['fraud']} | {c['notifications']} | {c['kafka']} | {c['postgres']} | {c['system_under_test']} | {s['cpu_cores_used']['other_processes_cores']} |")
