"""hostile8 probe of `disputedesk run` (ports 21101-21105) from the published API alone, after
`seed.py`: appeals (copies, another seller's), Accept, second party's ids, every state-changing
request raced 10x without a key, every list's paging. Effects are read back through the API
(return history, case timelines, tasks) and the mail sink. Output: probe-out.json."""

import concurrent.futures as cf
import glob
import os
import sys

from common import *  # noqa: F403

seeded = json.load(open("seeded.json"))
(r1, i1), (r2, i2), (r3, i3) = seeded["ids"].items()
MAIL = "/work/wt/hostile8/.state/test/mail"


def mails(needle: str) -> int:
    n = 0
    for path in glob.glob(f"{MAIL}/**/*", recursive=True):
        if os.path.isfile(path):
            try:
                if needle in open(path, errors="replace").read():
                    n += 1
            except OSError:
                pass
    return n


def cases():
    return {x["return_id"]: x for x in c.get(R + "/v1/cases?limit=100", headers=h("ops_manager")).json()["items"]}


def wait_case(rid, pred, tries=60):
    for _ in range(tries):
        cs = cases()
        if rid in cs and pred(cs[rid]):
            return cs[rid]
        time.sleep(0.5)
    return cases().get(rid)


def history(rid, ce):
    r = c.get(f"{I}/v1/returns/{rid}/events?limit=200", headers=h("ops_agent"))
    if r.status_code != 200:
        return -1
    return sum(ce in e.get("type", e.get("ce_type", "")) for e in r.json()["items"])


def burst(cls, method, url, role, body, n=10, expect_ok=1):
    def fire(_):
        return c.request(method, url, headers=h(role), json=body)

    with cf.ThreadPoolExecutor(n) as ex:
        res = list(ex.map(fire, range(n)))
    for x in res:
        bad = []
        if x.status_code >= 500:
            bad.append("5xx")
        if x.status_code >= 400 and "problem+json" not in x.headers.get("content-type", ""):
            bad.append("not-problem")
        if x.status_code in (400, 409, 422) and "problem+json" in x.headers.get("content-type", "") and not x.json().get("errors"):
            bad.append("no-field")
        record(cls, method, url, "", x, bad)
    codes = sorted(x.status_code for x in res)
    print(cls, method, url.split("/v1/")[-1][:70], codes)
    return res


ONLY = os.environ.get("PROBE_ONLY")
if ONLY == "paging":
    cs = cases()
    c1, c2, c3 = (cs[r]["case_id"] for r in (r1, r2, r3))
def paging_only():
    # 5. paging of every list
    P = "paging"
    lists = []
    for svc, doc in openapi().items():
        for path, item in doc["paths"].items():
            op = item.get("get")
            if op and "{" not in path and any(p["name"] == "limit" for p in op.get("parameters", [])):
                lists.append((svc, path))
    print("lists:", lists)
    def role_of(svc, path):
        if "/v1/admin/" in path or path == "/v1/partner-endpoints":
            return "admin"
        if path.startswith("/v1/partner/"):
            return "partner_rapidroute"
        if path == "/v1/suppressions":
            return "ops_manager"
        return "finance" if "ledger" in path else ROLE_FOR[svc]


    ROLE_FOR = {"intake": "ops_agent", "reconciliation": "ops_manager", "fraud": "ops_agent", "notifications": "ops_agent"}
    EXTRA = {"/v1/messages": "seller_id=S-DEMO-1&"}
    for svc, path in lists:
        base = BASE[svc] + path + "?" + EXTRA.get(path, "")
        role = role_of(svc, path)
        for lim in ("0", "-1", "1000000", "abc", "1.5"):
            req(P, "GET", f"{base}limit={lim}", role, expect=422)
        req(P, "GET", f"{base}cursor=not-a-cursor", role, expect=(400, 422))
        # walk three pages of one item: no item twice, each page at most one
        seen, url, pages = [], f"{base}limit=1", 0
        while url and pages < 3:
            r = req(P, "GET", url, role, expect=200)
            if r is None or r.status_code != 200:
                break
            items = r.json().get("items", [])
            if len(items) > 1:
                FINDINGS.append({"class": P, "bad": ["page-over-limit"], "url": url})
            seen += [json.dumps(i, sort_keys=True) for i in items]
            nxt = r.json().get("next")
            url = f"{base}limit=1&cursor={nxt}" if nxt else None
            pages += 1
            if nxt:
                # another list's cursor on this list
                for osvc, opath in lists[:3]:
                    if opath != path:
                        req(P, "GET", BASE[osvc] + opath + "?" + EXTRA.get(opath, "") + f"cursor={nxt}", role_of(osvc, opath), expect=(200, 400, 422), note="foreign cursor")
                        break
        if len(seen) != len(set(seen)):
            FINDINGS.append({"class": P, "bad": ["duplicate-across-pages"], "url": base})


    dump("probe-paging-out.json")
    print(json.dumps(COUNTS, indent=0))
    print("FINDINGS", len(FINDINGS))
    return 0


# decide case 1 so it can be appealed (seller liable, nothing paid)
cs = cases()
c1, c2, c3 = (cs[r]["case_id"] for r in (r1, r2, r3))
if ONLY == "paging":
    raise SystemExit(paging_only())
req("setup", "POST", f"{R}/v1/cases/{c1}/decision", "ops_agent", expect=(200, 409), json={"liable_party": "SELLER", "payout_pct": 0, "reason": "Probe: the seller packed it", "rule_id": "MANUAL"})
wait_case(r1, lambda x: x["state"] in ("DECIDED", "CLOSED", "REJECTED"))

# 1. appeals: ten copies at once, ten one after another (both routes), then another seller's
A = "appeal-copies"
before_mail = mails(r1)
res = burst(A, "POST", f"{I}/v1/escalations/{i1['esc']}/appeal", "seller_portal", {"reason": "I packed it well, see photos"})
for _ in range(10):
    req(A, "POST", f"{I}/v1/returns/{r1}/appeal", "seller_portal", idem=False, expect=(200,), json={"reason": "I packed it well, see photos"})
time.sleep(5)
appeal_events = history(r1, "appeal")
case1 = wait_case(r1, lambda x: x["state"] == "APPEALED")
print("appeal copies: AppealFiled in history", appeal_events, "case", case1 and case1["state"], "new mails", mails(r1) - before_mail)
if appeal_events != 1:
    FINDINGS.append({"class": A, "bad": ["effect"], "note": f"{appeal_events} AppealFiled events for 20 copies"})
O = "appeal-other-seller"
unknown = f"RET-NOPE-{uuid.uuid4().hex[:6]}"
for url in (f"{I}/v1/returns/{r1}/appeal", f"{I}/v1/escalations/{i1['esc']}/appeal", f"{I}/v1/returns/{unknown}/appeal"):
    burst(O, "POST", url, "portal2", {"reason": "Mine, look again"})
time.sleep(2)
print("other seller: AppealFiled in history now", history(r1, "appeal"))

# 2. Accept
AC = "accept"
for accept, ok in (("application/xml", 406), ("image/png", 406), ("text/csv", 406), ("application/json;q=0", 406), ("*/*", 200), ("application/*", 200),
                   ("application/problem+json", 200), ("application/xml, application/json;q=0.5", 200), (None, 200)):
    for url, role in ((f"{R}/v1/cases?limit=5", "ops_agent"), (f"{I}/v1/escalations?limit=5", "ops_agent"), (f"{F}/v1/alerts?limit=5", "ops_agent"), (f"{N}/v1/messages?seller_id=S-DEMO-1&limit=5", "ops_agent")):
        hdr = {"Accept": accept} if accept else {}
        r = req(AC, "GET", url, role, expect=ok, note=str(accept), headers=hdr)
        if r is not None and r.status_code == 406 and not any(e.get("field") == "header.Accept" for e in r.json().get("errors", [])):
            FINDINGS.append({"class": AC, "bad": ["no-field"], "url": url})
req(AC, "POST", f"{R}/v1/cases/{c2}/notes", "ops_agent", expect=406, headers={"Accept": "application/xml"}, json={"note": "Probe note under xml"})
tl = c.get(f"{R}/v1/cases/{c2}", headers=h("ops_agent")).json()["timeline"]
if any("Probe note under xml" in json.dumps(t) for t in tl):
    FINDINGS.append({"class": AC, "bad": ["effect"], "note": "a note written under a refused Accept"})

# 3. second party's ids: portal2 on seller 1's, partner swiftship on rapidroute's, a warehouse-bound agent on a case it has no task on
SP = "second-party"
req(SP, "GET", f"{I}/v1/escalations/{i1['esc']}", "portal2", expect=404)
req(SP, "POST", f"{I}/v1/escalations/{i1['esc']}/evidence", "portal2", expect=404, json={"received_weight_g": 500})
req(SP, "GET", f"{I}/v1/escalations?return_id={r1}", "portal2", expect=200)
req(SP, "GET", f"{I}/v1/returns/{r1}/events", "portal2", expect=(403, 404))
req(SP, "GET", f"{R}/v1/cases/{c1}", "portal2", expect=(403, 404))
req(SP, "GET", f"{N}/v1/messages?seller_id=S-DEMO-1", "portal2", expect=(403, 404))
req(SP, "GET", f"{R}/v1/cases/{c1}", "warehouse", expect=(403, 404))
req(SP, "POST", f"{R}/v1/cases/{c1}/notes", "warehouse", expect=(403, 404), json={"note": "Probe: not my case"})
notices = c.get(f"{R}/v1/partner/notices", headers=h("partner_rapidroute")).json() if "partner_rapidroute" in K else {}
for n in (notices.get("items") or [])[:1]:
    req(SP, "GET", f"{R}/v1/partner/notices/{n['notice_id']}", "partner_swiftship", expect=404)
    req(SP, "POST", f"{R}/v1/partner/notices/{n['notice_id']}/contest", "partner_swiftship", expect=404, json={"reason": "Not ours"})

# 4. state-changing requests ten at once without a key
RACE = "race-x10"
stamp = uuid.uuid4().hex[:6]
before_tasks = len(c.get(f"{R}/v1/cases/{c2}/tasks", headers=h("ops_agent")).json().get("items", []))
for method, url, role, body in [
    ("POST", f"{R}/v1/cases/{c2}/tasks", "ops_agent", {"team": "warehouse", "ask": f"Weigh the parcel {stamp}"}),
    ("POST", f"{R}/v1/cases/{c2}/evidence-requests", "ops_agent", {"checklist": ["photo of the box"], "reason": f"Need the box {stamp}"}),
    ("POST", f"{R}/v1/cases/{c3}/decision", "ops_agent", {"liable_party": "SELLER", "payout_pct": 0, "reason": "race", "rule_id": "MANUAL"}),
    ("POST", f"{F}/v1/watchlist", "ops_agent", {"entity_type": "seller", "entity_id": f"S-RACE-{stamp}", "reason": "race"}),
    ("POST", f"{N}/v1/suppressions", "ops_manager", {"address": f"race-{stamp}@example.com", "reason": "manual", "detail": "Probe: ten at once"}),
    ("POST", f"{R}/v1/policies", "ops_manager", {"version": f"sop-race-{stamp}", "changes": {"liability": {"L11": {"payout_pct": 45}}}, "reason": "Probe race"}),
    ("POST", f"{I}/v1/escalations/{i2['esc']}/appeal", "portal2", {"reason": f"Race appeal {stamp}"}),
    ("POST", f"{I}/v1/seller-feedback", "seller_portal", {"return_id": r1, "seller_id": "S-DEMO-1", "rating": 2, "comment": f"race {stamp}"}),
]:
    burst(RACE, method, url, role, body)
time.sleep(3)
tasks = c.get(f"{R}/v1/cases/{c2}/tasks", headers=h("ops_agent")).json().get("items", [])
print("tasks on c2:", before_tasks, "->", len(tasks))
print("evidence request mails:", mails(f"Need the box {stamp}"))
policies = [p for p in c.get(f"{R}/v1/policies", headers=h("ops_manager")).json()["items"] if p["version"] == f"sop-race-{stamp}"]
print("race policy versions:", len(policies))

paging_only()
dump("probe-out.json")
print(json.dumps(COUNTS, indent=0))
print("FINDINGS", len(FINDINGS))
