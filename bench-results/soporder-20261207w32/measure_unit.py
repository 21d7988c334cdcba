"""Count the stories of the SOP rule space whose answer differs from the oracle's, per class
(oracle rule → engine rule), for the rules module at a path (before: main's; after: the branch's).

    .venv/bin/python bench-results/soporder-20261207w32/measure_unit.py [rules.py]
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter

sys.path.insert(0, ".")
from tests.support.sop_oracle import amounts_space, bands_space, expected, rule_space  # noqa: E402
from tests.unit import test_sop_any_order as t  # noqa: E402

if len(sys.argv) > 1:
    spec = importlib.util.spec_from_file_location("rules_under_test", sys.argv[1])
    assert spec and spec.loader
    rules = importlib.util.module_from_spec(spec)
    sys.modules["rules_under_test"] = rules
    spec.loader.exec_module(rules)
    t.evaluate_claim = rules.evaluate_claim
    t.evaluate_proactive = rules.evaluate_proactive
    t.proactive_trigger = rules.proactive_trigger
    t.Step = rules.Step
    t._STEPS = {getattr(rules.Step, k.name): v for k, v in t._STEPS.items()}

classes: Counter[tuple[str, str]] = Counter()
stories = deliveries = wrong_stories = 0
for story in [*rule_space(), *amounts_space(), *bands_space()]:
    stories += 1
    want = expected(story)
    bad = False
    for _how, scans in t.deliveries(story):
        deliveries += 1
        got = t.judged(story, t.facts_of(story, scans))
        if got != want:
            bad = True
            classes[(f"{want.step} {want.rule}", f"{got.step} {got.rule}")] += 1
    wrong_stories += bad
print(f"stories {stories}, deliveries judged {deliveries}, stories answered wrong {wrong_stories}")
for (want, got), n in sorted(classes.items()):
    print(f"  oracle {want:<22} engine {got:<22} {n} deliveries")
