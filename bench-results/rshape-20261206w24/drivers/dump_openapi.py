import json, sys
from tests.support.routes import service_apps
from shared.access import route_access
out = {}
for name, app in service_apps().items():
    out[name] = {"openapi": app.openapi(), "access": sorted((r.method, r.path, sorted(r.roles) if r.roles is not None else None) for r in route_access(app))}
json.dump(out, open(sys.argv[1], "w"), indent=1, sort_keys=True, default=str)
