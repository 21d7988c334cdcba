import random, sys, os
sys.path.insert(0, os.getcwd())
sys.path.insert(0, "/work/wt-fspread/tests/unit")
from services.fraud.detectors import claim_abuse
from services.fraud.detectors.stats import Sequential, Thresholds
import importlib.util
spec = importlib.util.spec_from_file_location("t", "/work/wt-fspread/tests/unit/test_fraud_seller_spread.py")
src = open("/work/wt-fspread/tests/unit/test_fraud_seller_spread.py").read()
ns = {}
exec(compile(src.split("def test_")[0].split("def _market")[0] + "def _market" + src.split("def _market")[1].split("def test_")[0], "t", "exec"), ns)
T, S = Thresholds(), Sequential(alpha=1e-2)
for seed in range(3):
    cats = ns["_market"](random.Random(seed))
    bases, conc = claim_abuse.pooled_concentration(cats, T, prior_rate=0.05)
    pop = claim_abuse.honest_population(bases["beauty"], cats["beauty"], conc, T, S, prior_rate=0.05)
    print(f"a6aed01 seed {seed}: market a+b {conc:.1f}, beauty's population {pop}: beauty <= 0.6 x market? {pop.concentration <= 0.6 * conc}")
