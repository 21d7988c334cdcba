from tests.unit.test_lookup_parameters import PARAMETERS, _strings, constrained, FREE_TEXT
loose = [(s,m,p,n) for s,m,p,n,sc in PARAMETERS if _strings(sc) and not constrained(sc)]
print(len([x for x in PARAMETERS if _strings(x[4])]), "string parameters;", len(loose), "unconstrained (incl. free text):")
for x in loose: print("  ", *x)
