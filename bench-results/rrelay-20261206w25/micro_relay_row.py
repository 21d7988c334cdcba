"""A relay row's per-row work on d843bbd1 (header decoding, a 2.4 KB document with ₹ decoded and encoded, murmur2 of a key), timed apart."""
import timeit, uuid, json
from shared.envelope import header_map
from aiokafka.partitioner import murmur2
hs = [("ce_id", str(uuid.uuid4()).encode()), ("ce_source", b"reconciliation"), ("ce_type", b"disputedesk.reconciliation.case_decided.v1"),
      ("ce_specversion", b"1.0"), ("ce_time", b"2026-12-06T11:00:00.123456+00:00"), ("content-type", b"application/json"),
      ("ce_subject", b"CASE-123"), ("ce_traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
doc = json.dumps({"explanation": "We paid ₹2,499.00 " * 100, "x": list(range(100))}, ensure_ascii=False)
raw = doc.encode()
print(len(raw))
tests = {
 'header_map': lambda: header_map(hs),
 'dict decode strict': lambda: {k: v.decode() for k, v in hs},
 'payload decode+encode': lambda: raw.decode().encode(),
 'murmur2 RET key': lambda: murmur2(b"RET-2f8a1c3e-0001"),
}
for n, f in tests.items():
    k=20000; t=min(timeit.repeat(f, number=k, repeat=5))/k*1e6; print(n, round(t,2), 'us')
