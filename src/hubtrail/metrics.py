"""Prometheus metrics, one registry per app (so tests can build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS_S = (0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500)


class Metrics:
    """The counters ingest, the inbox writer and the processor update."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "hubtrail_messages_received", "Messages accepted by ingest.", ["source"], registry=r
        )
        self.committed = Counter(
            "hubtrail_messages_committed", "Messages committed to the inbox.", registry=r
        )
        self.processed = Counter(
            "hubtrail_messages_processed", "Messages applied, by outcome.", ["status"], registry=r
        )
        self.rejected = Counter(
            "hubtrail_requests_rejected",
            "Ingest requests refused (bad input or no capacity), by endpoint and status.",
            ["endpoint", "status"],
            registry=r,
        )
        self.overloaded = Counter(
            "hubtrail_requests_overloaded",
            "Ingest requests answered 429 because too many messages waited for the inbox writer.",
            registry=r,
        )
        per_destination = ["destination"]
        self.forward_queued = Gauge(
            "hubtrail_forward_queued", "Changes due to be sent.", per_destination, registry=r
        )
        self.forward_sent = Counter(
            "hubtrail_forward_sent", "Changes delivered.", per_destination, registry=r
        )
        self.forward_retried = Counter(
            "hubtrail_forward_retried", "Changes put back to retry.", per_destination, registry=r
        )
        self.forward_dead = Counter(
            "hubtrail_forward_dead", "Changes dead-lettered.", per_destination, registry=r
        )
        self.forward_calls = Counter(
            "hubtrail_forward_calls", "Calls made to the target.", per_destination, registry=r
        )
        self.forward_throttled = Counter(
            "hubtrail_forward_throttled",
            "429 answers from the target.",
            per_destination,
            registry=r,
        )
        self.forward_budget_left = Gauge(
            "hubtrail_forward_budget_left",
            "Calls left in today's budget.",
            per_destination,
            registry=r,
        )
        self.inbox_depth = Gauge(
            "hubtrail_inbox_depth", "Messages waiting to be processed.", registry=r
        )
        self.commit_latency = Histogram(
            "hubtrail_commit_latency_seconds",
            "Time one group commit of the inbox takes.",
            buckets=_LATENCY_BUCKETS_S,
            registry=r,
        )
        self.commit_batch = Histogram(
            "hubtrail_commit_batch_messages",
            "Messages written per group commit.",
            buckets=_BATCH_BUCKETS,
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
