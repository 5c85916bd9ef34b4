"""Following batches queued for ``process_articles`` to their results, for the
commands that wait for them (`mediamon ingest`, archives): a batch split past its
time limit is followed through its halves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from celery.result import AsyncResult


@dataclass
class Settled:
    """What became of the keys of one batch (or of a half of a split one)."""

    keys: list[str]
    tag: Any = None
    indexed: int = 0
    duplicate: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    failed: str | None = None  # the batch failed for good: kept as a dead letter


class Following:
    def __init__(self) -> None:
        self.pending: list[tuple[AsyncResult, list[str], Any]] = []

    def add(self, result: AsyncResult, keys: list[str], tag: Any = None) -> None:
        self.pending.append((result, keys, tag))

    def waiting(self) -> int:
        """Keys of batches not settled yet."""
        return sum(len(keys) for _, keys, _ in self.pending)

    def settle(self) -> list[Settled]:
        """The batches that have ended since the last call (each with its tag)."""
        from workers.articles.tasks import process_articles

        still, done = [], []
        for result, keys, tag in self.pending:
            if not result.ready():
                still.append((result, keys, tag))
            elif result.failed():
                done.append(Settled(keys, tag, failed=repr(result.result)))
            elif "continued" in (summary := result.get()):  # split past its time limit
                for child, part in summary["continued"]:
                    still.append((process_articles.AsyncResult(child), part, tag))
            else:
                done.append(
                    Settled(
                        keys,
                        tag,
                        indexed=summary["indexed"],
                        duplicate=summary["duplicate"],
                        rejected=summary["rejected"],
                    )
                )
        self.pending = still
        return done
