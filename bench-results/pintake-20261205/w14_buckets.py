"""A py-spy raw profile's samples by where they are, first match wins (shares of all samples);
buckets.py's, with the sender's lanes (2026-12-05, wave 14) and the request layer split.
    python w14_buckets.py PROFILE.txt"""
import collections
import re
import sys

FRAME = re.compile(r"^(.*?) \((.*?)(?::\d+)?\)$")
ENDPOINT = [
    ("the statement (checkout, driver, round trip)", ("record_owned_scans",)),
    ("parsing: the partner's model, canonical event, rows", ("parse",)),
    ("the outbox columns and archive outcomes", ("_ingest_owned",)),
    ("the rate limiter", ("RateLimiter.spend",)),
    ("the signature", ("SwiftshipAdapter.authenticate", "RapidRouteAdapter.authenticate",
                       "DesipostAdapter.authenticate")),
    ("the rest of the endpoint (body, directory, answer)", ("receive_webhook",)),
    ("the statements' sender around the statement",
     ("OwnedScanStatements._send_waiting", "_Lane._send_waiting")),
]
LAYER = [  # inside the server's request cycle, outside the endpoint
    ("  layer: FastAPI's handler (dependencies, response model, Response)",
     ("get_request_handler.<locals>.app",)),
    ("  layer: writing the answer (Response, the send wrappers, uvicorn's send)",
     ("Response.__call__",)),
    ("  layer: Starlette/FastAPI middlewares, routing, our ServiceRequests",
     ("RequestResponseCycle.run_asgi",)),
    ("  layer: uvicorn reading and parsing the request (httptools)",
     ("HttpToolsProtocol.data_received", "H11Protocol.data_received")),
]
RELAY = ("the outbox relay and Kafka producer",
         ("OutboxRelay.run", "Sender._sender_routine", "SendProduceReqHandler.do",
          "AIOKafkaClient.send"))
tot = 0
out: collections.Counter[str] = collections.Counter()
for line in open(sys.argv[1]):
    stack, _, c = line.rstrip().rpartition(" ")
    if not c.isdigit():
        continue
    n = int(c)
    tot += n
    fr = {(m.group(1) if (m := FRAME.match(f.strip())) else f.strip()) for f in stack.split(";")}
    for name, marks in [*ENDPOINT, *LAYER, RELAY]:
        if any(m in fr for m in marks):
            out[name] += n
            break
    else:
        out["the event loop and everything else (the relay's statements in greenlets too)"] += n
print(f"{sys.argv[1]}: {tot} samples")
layer = sum(v for k, v in out.items() if k.startswith("  layer"))
for name, _ in [*ENDPOINT, ("server, ASGI, FastAPI and the shared request layer", ()),
                *LAYER, RELAY, ("the event loop and everything else (the relay's statements "
                                "in greenlets too)", ())]:
    count = layer if name.startswith("server,") else out[name]
    print(f"  {100 * count / max(tot, 1):5.1f}%  {name}")
