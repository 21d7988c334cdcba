"""The faults a drill injects, one after another, while traffic flows."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

from disputedesk.drills.fleet import ServiceFleet
from disputedesk.drills.traffic import TrafficGenerator
from disputedesk.stack.local_stack import Stack


@dataclass
class DrillTargets:
    """What faults act on."""

    stack: Stack
    fleet: ServiceFleet
    traffic: TrafficGenerator


class Fault(Protocol):
    @property
    def name(self) -> str: ...

    async def inject(self, targets: DrillTargets) -> str:
        """Break something and bring it back; return a short note for the report."""


@dataclass(frozen=True)
class BrokerOutage:
    """Stop the Kafka broker (graceful shutdown), keep it down, start it again."""

    down_for_s: float
    name: str = "Kafka broker stopped and restarted"

    async def inject(self, targets: DrillTargets) -> str:
        began = time.monotonic()
        await asyncio.to_thread(targets.stack.kafka.stop)
        stopped = time.monotonic()
        await asyncio.sleep(self.down_for_s)
        restarting = time.monotonic()
        await asyncio.to_thread(targets.stack.kafka.start)
        return (
            f"stop {stopped - began:.0f}s, down {self.down_for_s:.0f}s, "
            f"start {time.monotonic() - restarting:.0f}s"
        )


@dataclass(frozen=True)
class BrokerCrash:
    """SIGKILL the Kafka broker (no controlled shutdown) and start it again."""

    down_for_s: float
    name: str = "kill -9 Kafka broker, restart"

    async def inject(self, targets: DrillTargets) -> str:
        await asyncio.to_thread(targets.stack.kafka.kill)
        await asyncio.sleep(self.down_for_s)
        await asyncio.to_thread(targets.stack.kafka.start)
        return f"down {self.down_for_s:.0f}s"


@dataclass(frozen=True)
class ServiceCrash:
    """SIGKILL one service's processes mid-traffic and start it again."""

    service: str
    down_for_s: float

    @property
    def name(self) -> str:
        return f"kill -9 {self.service}, restart"

    async def inject(self, targets: DrillTargets) -> str:
        await targets.fleet.kill(self.service)
        await asyncio.sleep(self.down_for_s)
        await targets.fleet.restart(self.service)
        return f"down {self.down_for_s:.0f}s"


@dataclass(frozen=True)
class DatabaseRestart:
    """Restart PostgreSQL (fast shutdown cuts every open session and transaction)."""

    name: str = "PostgreSQL restarted"

    async def inject(self, targets: DrillTargets) -> str:
        await asyncio.to_thread(targets.stack.postgres.restart)
        return "fast shutdown, start"


@dataclass(frozen=True)
class PartnerReplay:
    """The partner re-sends a sample of webhooks intake already accepted."""

    share: float
    name: str = "partner replays accepted webhooks"

    async def inject(self, targets: DrillTargets) -> str:
        sent = await targets.traffic.replay(self.share)
        return f"{sent} webhooks re-sent"


@dataclass(frozen=True)
class BusiestLeaderCrash:
    """SIGKILL the broker of the cluster that leads the partitions holding the most messages,
    keep it down while traffic flows (the others take over its partitions: with three replicas
    and min.insync.replicas 2 no acknowledged event is lost, no write refused), start it again."""

    down_for_s: float
    name: str = "kill -9 the broker leading the busiest partitions, restart"

    async def inject(self, targets: DrillTargets) -> str:
        from disputedesk.drills.observe import busiest_leader
        from shared.kafka.admin import registry_topic_names

        stack = targets.stack
        node_id, messages = await busiest_leader(
            stack.kafka.bootstrap_servers, registry_topic_names()
        )
        broker = next(node for node in stack.kafka_nodes if node.node_id == node_id)
        await asyncio.to_thread(broker.kill)
        await asyncio.sleep(self.down_for_s)
        await asyncio.to_thread(broker.start)
        return f"broker {node_id} led {messages} messages; down {self.down_for_s:.0f}s"


@dataclass(frozen=True)
class RollingRestart:
    """Restart every service process in turn (SIGTERM, start, ready), as a deploy does."""

    name: str = "rolling restart of every service"

    async def inject(self, targets: DrillTargets) -> str:
        labels = targets.fleet.names
        for label in labels:
            await targets.fleet.graceful_restart(label)
        return f"{len(labels)} processes, one at a time"


def fleet_sequence(
    *, broker_down_s: float, service_down_s: float, replay_share: float, replicas: list[str]
) -> list[Fault]:
    """The fleet drill: the busiest leader broker killed, one replica of each service killed,
    a rolling restart of all, and a partner replay."""
    return [
        BusiestLeaderCrash(broker_down_s),
        *(ServiceCrash(label, service_down_s) for label in replicas),
        RollingRestart(),
        PartnerReplay(replay_share),
    ]


def fault_sequence(
    *,
    broker_down_s: float,
    service_down_s: float,
    replay_share: float,
    services: list[str],
    broker_crash: bool,
) -> list[Fault]:
    return [
        BrokerOutage(broker_down_s),
        *(ServiceCrash(name, service_down_s) for name in services),
        DatabaseRestart(),
        PartnerReplay(replay_share),
        *([BrokerCrash(broker_down_s)] if broker_crash else []),
    ]
