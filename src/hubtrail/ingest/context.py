"""What every ingestion endpoint needs from the running service, in one value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hubtrail.metrics import Metrics
from hubtrail.store.directory import PortalDirectory
from hubtrail.store.group_commit import GroupCommitter


@dataclass(frozen=True, slots=True)
class IngestContext:
    """The inbox writer, the portal directory, metrics, request limits and the clock."""

    committer: GroupCommitter
    directory: PortalDirectory
    metrics: Metrics
    max_query_bytes: int
    max_body_bytes: int
    clock_ms: Callable[[], int]
