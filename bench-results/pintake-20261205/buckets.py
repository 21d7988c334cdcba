"""A py-spy raw profile's samples by where they are, first match wins (shares of all samples).
    python buckets.py PROFILE.txt"""
import re, sys, collections
FRAME = re.compile(r"^(.*?) \((.*?)(?::\d+)?\)$")
BUCKETS = [
    ("the statement (checkout, driver, round trip)", ("record_owned_scans",)),
    ("parsing: the partner's model, canonical event, rows", ("parse",)),
    ("the outbox columns and archive outcomes", ("_ingest_owned",)),
    ("the rate limiter", ("RateLimiter.spend",)),
    ("the signature", ("SwiftshipAdapter.authenticate", "RapidRouteAdapter.authenticate", "DesipostAdapter.authenticate")),
    ("the rest of the endpoint (body, directory, answer)", ("receive_webhook",)),
    ("the statements' sender around the statement", ("OwnedScanStatements._send_waiting",)),
    ("server, ASGI, FastAPI and the shared request layer", ("RequestResponseCycle.run_asgi", "HttpToolsProtocol.data_received", "H11Protocol.data_received")),
    ("the outbox relay and Kafka producer", ("OutboxRelay.run", "Sender._sender_routine", "SendProduceReqHandler.do", "AIOKafkaClient.send")),
]
tot = 0
out = collections.Counter()
for line in open(sys.argv[1]):
    stack, _, c = line.rstrip().rpartition(" ")
    if not c.isdigit():
        continue
    c = int(c); tot += c
    fr = {(FRAME.match(f.strip()).group(1) if FRAME.match(f.strip()) else f.strip()) for f in stack.split(";")}
    for name, marks in BUCKETS:
        if any(m in fr for m in marks):
            out[name] += c
            break
    else:
        out["the event loop and everything else"] += c
print(f"{sys.argv[1]}: {tot} samples")
for name, _ in BUCKETS + [("the event loop and everything else", ())]:
    print(f"  {100 * out[name] / max(tot, 1):5.1f}%  {name}")
