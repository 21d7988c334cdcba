"""A fraud world written from the fraud, partner and product specifications alone.

It is kept apart from `disputedesk.simulate` on purpose: it shares no parameters, shapes or code
with the simulator the detectors were tuned against, and it reaches the services only through
their public HTTP APIs (partner webhooks in each partner's own format, the marketplace feed, the
seller portal), so a detection figure measured on it is not a figure of our own simulator.

- `world`: the marketplace, its planted fraud and its honest look-alikes, with ground truth;
- `traffic`: the world as requests (signed as each partner signs), sent in world-time order;
- `score`: what fraud's API says afterwards, scored per pattern against the ground truth;
- `runner`: a fresh stack, the services, the traffic, the wait for the pipeline, the score.
"""
