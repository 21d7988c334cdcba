"""shares.py RAW: of a py-spy raw (collapsed) profile's samples, the share whose stack holds each
named frame (a sample counted once per name)"""
import sys
NAMES = {
    "relay round (shared/outbox.py _round)": "_round (shared/outbox.py:",
    "relay, whole loop (OutboxRelay.run)": "run (shared/outbox.py:",
    "rate limiter lease round trip (_take_lease)": "_take_lease (shared/rate_limit.py:",
    "webhooks' shared statement (record_owned_scans)": "record_owned_scans (services/intake/partners/repository.py:",
    "held path: ingest's transaction": "ingest (services/intake/partners/service.py:",
    "feed entry's one call (store_new_return_alone)": "store_new_return_alone",
    "feed entry binding held scans (bind_held)": "bind_held (services/intake/partners/service.py:",
    "escalation": "escalations/router.py",
    "webhook parse": "parse (services/intake/partners/service.py:",
    "asyncpg execution (any)": "asyncpg/",
    "SQLAlchemy (any)": "sqlalchemy/",
}
total = 0; counts = dict.fromkeys(NAMES, 0); idle = 0
for line in open(sys.argv[1]):
    stack, _, n = line.rstrip().rpartition(" ")
    n = int(n); total += n
    for label, frame in NAMES.items():
        if frame in stack:
            counts[label] += n
print(f"samples {total}")
for label, c in counts.items():
    print(f"{c:6d} {c/total:6.1%} {label}")
