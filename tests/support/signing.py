"""Partner request signing for tests: the simulator's own implementation."""

from disputedesk.simulate.signing import desipost_headers, rapidroute_headers, swiftship_headers

__all__ = ["desipost_headers", "rapidroute_headers", "swiftship_headers"]
