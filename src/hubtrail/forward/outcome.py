"""What a send can end in, for the engine to record."""

from __future__ import annotations

from dataclasses import dataclass, field

from hubtrail.core.delivery import is_retryable


class CallFailed(Exception):
    """A call that did not succeed: `status` None for a network failure."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def retryable(self) -> bool:
        return is_retryable(self.status)


class Held(Exception):
    """The destination is paused for longer than a cycle should wait (a 429's `Retry-After`,
    a spent daily budget, a refused token): the rows not yet sent wait, no attempt counted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LeaseLost(Exception):
    """Another worker took the destination over (this one stalled past its lease): the rows
    are that worker's now, so this one records nothing."""


@dataclass(slots=True)
class Result:
    """What became of a cycle's rows (outbox row ids, with the reason where they failed)."""

    sent: list[int] = field(default_factory=list)
    retry: list[tuple[list[int], str]] = field(default_factory=list)  # counts an attempt
    wait: list[tuple[list[int], str]] = field(default_factory=list)  # no attempt counted
    split: list[tuple[list[int], str]] = field(default_factory=list)  # a 4xx on a batch
    dead: list[tuple[list[int], str]] = field(default_factory=list)

    def filed(self) -> set[int]:
        """Every row id given a fate so far."""
        lists = [self.sent] + [
            ids for group in (self.retry, self.wait, self.split, self.dead) for ids, _ in group
        ]
        return {row_id for ids in lists for row_id in ids}

    def fail(self, ids: list[int], error: CallFailed) -> None:
        """File rows under what `error` means for them: a 429 or a refused token is not their
        fault (they wait, no attempt counted); a network error, 408 or 5xx is tried again; any
        other 4xx splits a batch to find the input at fault, and dead-letters a lone input."""
        if not ids:
            return
        if error.status in (401, 403, 429):
            self.wait.append((ids, error.message))
        elif error.retryable:
            self.retry.append((ids, error.message))
        elif len(ids) > 1:
            self.split.append((ids, error.message))
        else:
            self.dead.append((ids, error.message))
