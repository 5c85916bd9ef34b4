"""Answers a process keeps for a while: a bounded map whose entries expire."""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Kept(Generic[K, V]):
    """Up to ``size`` answers, each for ``seconds``; when full, the expired ones go,
    then the oldest. ``seconds`` of 0 keeps nothing."""

    def __init__(self, seconds: float, size: int):
        self.seconds = seconds
        self.size = size
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> tuple[V] | None:
        """``(answer,)`` while one is kept (the answer may itself be None), else None."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return (entry[1],)
        return None

    def put(self, key: K, value: V) -> None:
        if self.seconds <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
                while len(self._entries) >= self.size:
                    del self._entries[next(iter(self._entries))]
            self._entries[key] = (now + self.seconds, value)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries
