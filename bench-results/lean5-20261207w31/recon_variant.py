"""`bench/reconciliation.py` with cut (1)'s prototype loaded: LEAN5_PLAIN=1 (written back through
the ORM) or 2 (written directly); unset, the code as it is. Run from a code checkout:
PYTHONPATH=$PWD python recon_variant.py"""
import os
import runpy
import sys

if os.environ.get("LEAN5_PLAIN"):
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))
    import plain_case  # noqa: F401

runpy.run_path("bench/reconciliation.py", run_name="__main__")
