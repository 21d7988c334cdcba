"""Sign partner requests the way each partner does (the helpers live with the simulator)."""

from disputedesk.simulate.signing import swiftship_headers

__all__ = ["swiftship_headers"]
