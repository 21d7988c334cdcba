"""A simulated marketplace: honest return traffic with planted fraud of every pattern and its
ground truth, emitted as calls to intake's public HTTP API (the marketplace feed, partner
webhooks, seller escalations). Deterministic by seed.

    world = generate(Marketplace(), seed=1)       # actions in time order + ground truth
    await drive(world, client, credentials, clock)  # replays them against intake
"""

from disputedesk.simulate.generator import Action, GroundTruth, World, generate
from disputedesk.simulate.marketplace import FraudPlan, Marketplace

__all__ = ["Action", "FraudPlan", "GroundTruth", "Marketplace", "World", "generate"]
