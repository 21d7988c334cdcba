"""pcpu4: pintake-20261205c/w15_buckets.py with the feed entry's own buckets added first.
A py-spy raw profile's samples by where they are, first match wins: shares of all samples and
the samples themselves (both variants of a run served the same requests, so samples compare
CPU). pintake-20261205/w14_buckets.py's buckets, with the webhook route's own handler counted
with FastAPI's, and the stacks py-spy shows apart (greenlets: SQLAlchemy's statements and the
pool's checkouts) named by their root.
    python w15_buckets.py PROFILE.txt"""
import collections
import re
import sys

FRAME = re.compile(r"^(.*?) \((.*?)(?::\d+)?\)$")
ENDPOINT = [
    ("feed: the request's session, BEGIN, lock, storing statement, COMMIT",
     ("accept_return", "request_session", "gated_session", "AsyncSession.commit")),
    ("feed: the one call (checkout, driver, round trip)", ("accept_new_return",)),
    ("feed/escalation: the caller's key and its rate limit", ("authenticate",)),
    ("feed/escalation: FastAPI's dependencies and body", ("solve_dependencies",)),
    ("feed: the rest of the endpoint", ("post_return",)),
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
    ("  layer: the route's handler (FastAPI's, or the webhook's own: path value, answer)",
     ("get_request_handler.<locals>.app", "PartnerWebhookRoute.get_route_handler.<locals>.answer")),
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
APART = [  # stacks without the event loop's frames: greenlets, by their root
    ("greenlets: SQLAlchemy's statements, begin and commit (the relay's, the directory's)",
     ("Session.", "TransactionalContext.", "commit", "AsyncSession", "Connection.")),
    ("greenlets: the pool's checkouts and check-ins", ("Pool.", "_ConnectionFairy", "_finalize_fairy")),
]
REST = "the event loop and everything else"
tot = 0
out: collections.Counter[str] = collections.Counter()
for line in open(sys.argv[1]):
    stack, _, c = line.rstrip().rpartition(" ")
    if not c.isdigit():
        continue
    n = int(c)
    tot += n
    names = [(m.group(1) if (m := FRAME.match(f.strip())) else f.strip()) for f in stack.split(";")]
    fr = set(names)
    for name, marks in [*ENDPOINT, *LAYER, RELAY]:
        if any(m in fr for m in marks):
            out[name] += n
            break
    else:
        if "Runner.run" not in fr and names and names[0]:
            for name, roots in APART:
                if names[0].startswith(roots):
                    out[name] += n
                    break
            else:
                out[REST] += n
        else:
            out[REST] += n
print(f"{sys.argv[1]}: {tot} samples")
layer = sum(v for k, v in out.items() if k.startswith("  layer"))
for name, _ in [*ENDPOINT, ("server, ASGI, FastAPI and the shared request layer", ()),
                *LAYER, RELAY, *APART, (REST, ())]:
    count = layer if name.startswith("server,") else out[name]
    print(f"  {100 * count / max(tot, 1):5.1f}%  {count:5d}  {name}")
