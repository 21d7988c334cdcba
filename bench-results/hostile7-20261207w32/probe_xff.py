"""130 unknown keys to intake, each naming another client address in X-Forwarded-For, then 130
without the header (the limit on failed keys: AUTH_FAILURE_LIMIT_PER_MIN, 100 an address)."""
import sys
from common import *
for label, forged in (("rotating X-Forwarded-For", True), ("no header", False)):
    codes = []
    for n in range(130):
        hd = {"Authorization": f"Bearer guess-{uuid.uuid4().hex}"}
        if forged:
            hd["X-Forwarded-For"] = f"198.51.100.{n % 250 + 1}"
        r = c.get(f"{I}/v1/escalations", headers=hd)
        codes.append(r.status_code)
    print(sys.argv[1] if len(sys.argv) > 1 else "", label, {k: codes.count(k) for k in sorted(set(codes))})
    time.sleep(0 if forged else 0)
