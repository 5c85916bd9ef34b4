"""Story clusters across batches: the bands and stories seen in the last week, in Redis,
for pipelines/stories.py to cluster a batch against. Keys expire after a week: a story
is news for that long."""

from __future__ import annotations

from typing import Any

import redis

from pipelines.stories import bands, cluster

TTL = 7 * 86_400


def assign(client: redis.Redis, prefix: str, docs: list[dict[str, Any]]) -> None:
    """Set ``story_id`` on each document (in place) and remember the batch's bands."""
    fingerprints = [doc.get("fingerprint") for doc in docs]
    keys = [f"{prefix}story:band:{band}" for fp in fingerprints if fp for band in bands(fp)]
    values: list[str | None] = client.mget(keys) if keys else []  # type: ignore[assignment]
    known_bands = {
        key.removeprefix(f"{prefix}story:band:"): str(value)
        for key, value in zip(keys, values, strict=True)
        if value
    }
    story_ids = sorted(set(known_bands.values()))
    found: list[str | None] = (
        client.mget([f"{prefix}story:fp:{s}" for s in story_ids]) if story_ids else []  # type: ignore[assignment]
    )
    known_stories = {s: str(fp) for s, fp in zip(story_ids, found, strict=True) if fp}
    result = cluster(fingerprints, known_bands, known_stories)
    for doc, story in zip(docs, result.stories, strict=True):
        if story is not None:
            doc["story_id"] = story
    pipe = client.pipeline(transaction=False)
    for story, fingerprint in result.new_stories.items():
        pipe.set(f"{prefix}story:fp:{story}", fingerprint, ex=TTL, nx=True)
    for band, story in result.new_bands.items():
        pipe.set(f"{prefix}story:band:{band}", story, ex=TTL, nx=True)
    pipe.execute()
