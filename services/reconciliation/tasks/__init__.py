"""Cross-team tasks on a case: asks of other teams, their SLAs, settlement holds, reports."""
