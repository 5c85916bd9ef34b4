"""Story clusters: republished copies of one wire story share a ``story_id``.

Each article's 64-bit SimHash is cut into four 16-bit bands; copies within a Hamming
distance of 3 share at least one band exactly (pigeonhole), so Redis keys per band value
find the candidates and the distance check confirms them. The first article of a story
gives it its id. Keys expire after a week: a story is news for that long.
"""

from __future__ import annotations

from typing import Any

import redis

from pipelines.fingerprint import distance

BANDS = 4
MAX_DISTANCE = 3
TTL = 7 * 86_400


def bands(fingerprint: str) -> list[str]:
    width = len(fingerprint) // BANDS
    return [f"{i}:{fingerprint[i * width : (i + 1) * width]}" for i in range(BANDS)]


def assign(client: redis.Redis, prefix: str, docs: list[dict[str, Any]]) -> None:
    """Set ``story_id`` on each document (in place)."""
    local: dict[str, str] = {}  # band -> story within this batch
    fingerprints: dict[str, str] = {}  # story -> its first fingerprint
    keys = [
        f"{prefix}story:band:{band}"
        for doc in docs
        if doc.get("fingerprint")
        for band in bands(doc["fingerprint"])
    ]
    values: list[str | None] = client.mget(keys) if keys else []  # type: ignore[assignment]
    known = dict(zip(keys, values, strict=True))
    stories = {str(s) for s in known.values() if s}
    if stories:
        found: list[str | None] = client.mget([f"{prefix}story:fp:{s}" for s in stories])  # type: ignore[assignment]
        fingerprints.update({s: fp for s, fp in zip(stories, found, strict=True) if fp})
    pipe = client.pipeline(transaction=False)
    for doc in docs:
        fingerprint = doc.get("fingerprint")
        if not fingerprint:
            continue
        story = None
        for band in bands(fingerprint):
            candidate = local.get(band) or known.get(f"{prefix}story:band:{band}")
            if (
                candidate
                and candidate in fingerprints
                and distance(fingerprints[candidate], fingerprint) <= MAX_DISTANCE
            ):
                story = candidate
                break
        if story is None:
            story = fingerprint
            fingerprints[story] = fingerprint
            pipe.set(f"{prefix}story:fp:{story}", fingerprint, ex=TTL, nx=True)
        doc["story_id"] = story
        for band in bands(fingerprint):
            local.setdefault(band, story)
            pipe.set(f"{prefix}story:band:{band}", story, ex=TTL, nx=True)
    pipe.execute()
