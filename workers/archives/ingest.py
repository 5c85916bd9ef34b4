"""A WARC file through the worker: its articles staged and queued for the CPU pool in
batches, a bounded number at once (memory stays flat however long the file), and the
place to resume from kept in Redis.

The resume point is the first record of the oldest batch not yet written, with the
counts up to it: after Ctrl-C or a crash the same command starts there. A batch
written twice is harmless (documents are keyed by URL: the second time they count as
already indexed).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from workers.archives.warc import Counts, records
from workers.articles.following import Following, Settled
from workers.articles.staging import ARCHIVES, to_payload
from workers.state import State

IDENTITY_BYTES = 1 << 16
HEAD = 512  # bytes of stdin looked at: a gzip member's first ones may not inflate yet


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVES)


def stdin_is_archive() -> bool:
    """Whether standard input starts like a WARC file (plain, or a gzip member)."""
    stream = sys.stdin.buffer
    if hasattr(stream, "peek"):
        head = stream.peek(HEAD)[:HEAD]
    elif stream.seekable():
        at = stream.tell()
        head = stream.read(HEAD)
        stream.seek(at)
    else:
        return False
    if head.startswith(b"WARC/1."):
        return True
    if head[:2] == b"\x1f\x8b":
        import zlib

        try:
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head).startswith(b"WARC/")
        except zlib.error:
            return False
    return False


def archives_in(paths: list[str]) -> tuple[list[str], list[str]]:
    """The WARC files among ``paths`` (folders searched), and the other paths."""
    found, others = [], []
    for name in paths:
        path = Path(name)
        if name != "-" and path.is_dir():
            files = [p for p in path.rglob("*") if p.is_file()]
            inside = sorted(str(p) for p in files if is_archive(p.name))
            found += inside
            if inside and all(is_archive(p.name) for p in files):
                continue
        elif is_archive(name):
            found.append(name)
            continue
        others.append(name)
    return found, others


class Stalled(Exception):
    def __init__(self, waiting: int, patience: float):
        super().__init__(
            f"{waiting} article(s) still queued after {patience:.0f}s without progress"
        )
        self.waiting = waiting


@dataclass
class _Batch:
    offset: int  # where its first record starts
    before: dict[str, int]  # the counts up to that record
    keys: list[str] = field(default_factory=list)
    left: int = 0  # keys not settled yet


@dataclass
class ArchiveResult:
    counts: Counts
    indexed: int = 0
    duplicate: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    failed: int = 0
    resumed_at: int = 0
    already: bool = False  # an earlier run read it to the end


class Resume:
    """Where to resume a file, in Redis, under a name made from its path, size and
    first bytes (another file at the same path starts over)."""

    def __init__(self, state: State, path: str):
        digest = hashlib.sha256()
        real = os.path.realpath(path)
        digest.update(f"{real}\0{os.path.getsize(path)}\0".encode())
        with open(path, "rb") as stream:
            digest.update(stream.read(IDENTITY_BYTES))
        self.redis = state.redis
        self.key = state.key("archive", digest.hexdigest()[:32])
        self.path = real

    def load(self) -> tuple[int, Counts, bool]:
        saved: dict[str, str] = self.redis.hgetall(self.key)  # type: ignore[assignment]
        if not saved:
            return 0, Counts(), False
        return (
            int(saved.get("offset", 0)),
            Counts.from_dict(json.loads(saved.get("counts", "{}"))),
            saved.get("finished") == "1",
        )

    def save(self, offset: int, counts: dict[str, int], *, finished: bool = False) -> None:
        self.redis.hset(
            self.key,
            mapping={
                "path": self.path,
                "offset": offset,
                "counts": json.dumps(counts),
                "finished": int(finished),
                "saved_at": time.time(),
            },
        )

    def forget(self) -> None:
        self.redis.delete(self.key)


def ingest_archive(
    stream: BinaryIO,
    state: State,
    queue: Callable[[list[str]], Any],
    *,
    resume: Resume | None = None,
    source: str | None = None,
    batch_size: int = 50,
    in_flight: int = 4,
    max_bytes: int = 10 * 2**20,
    progress: Callable[[int, ArchiveResult], None] | None = None,  # (offset read to, so far)
    patience: float = 600.0,
) -> ArchiveResult:
    """Stage the articles of one WARC stream in batches and queue each with ``queue``
    (``process_articles.delay``), no more than ``in_flight`` batches unsettled at
    once; wait for every batch, saving the resume point as batches settle. Raises
    Stalled when no batch settles for ``patience`` seconds (no worker running)."""
    start, counts, finished = resume.load() if resume else (0, Counts(), False)
    result = ArchiveResult(counts, resumed_at=start)
    if finished:
        result.already = True
        return result
    following = Following()
    batches: deque[_Batch] = deque()
    building: _Batch | None = None
    payloads: list[dict[str, Any]] = []

    def send() -> None:
        nonlocal building, payloads
        assert building is not None
        building.keys = state.stage(payloads)
        building.left = len(building.keys)
        following.add(queue(building.keys), building.keys, building)
        batches.append(building)
        building, payloads = None, []

    last_settled = time.monotonic()

    def settle() -> None:
        nonlocal last_settled
        for done in following.settle():
            _tally(result, done)
            done.tag.left -= len(done.keys)
            last_settled = time.monotonic()
        if following.pending and time.monotonic() - last_settled > patience:
            raise Stalled(following.waiting(), patience)
        committed = None
        while batches and batches[0].left <= 0:
            batches.popleft()
            committed = batches[0] if batches else building
        if committed is not None and resume is not None:
            resume.save(committed.offset, committed.before)

    for record in records(stream, counts, start=start, max_bytes=max_bytes):
        if building is None:
            before = replace(counts, skipped=counts.skipped.copy())
            before.records -= 1
            before.articles -= 1
            building = _Batch(record.offset, before.as_dict())
        raw = record.raw if not source else replace(record.raw, source=source)
        payloads.append(to_payload(raw))
        if progress:
            progress(record.offset, result)
        if len(payloads) >= batch_size:
            send()
            while following.waiting() >= in_flight * batch_size:
                time.sleep(0.1)
                settle()
            settle()
    if payloads:
        send()
    while following.pending:
        time.sleep(0.2)
        settle()
    settle()
    if resume is not None:
        resume.save(-1, counts.as_dict(), finished=True)
    return result


def _tally(result: ArchiveResult, done: Settled) -> None:
    if done.failed:
        result.failed += len(done.keys)
        return
    result.indexed += done.indexed
    result.duplicate += done.duplicate
    result.rejected += done.rejected
