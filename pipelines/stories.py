"""Story clusters: republished copies of one wire story share a ``story_id``.

Each article's 64-bit SimHash (pipelines/fingerprint.py) is cut into four 16-bit bands;
copies within a Hamming distance of 3 share at least one band exactly (pigeonhole), so a
lookup per band value finds the candidates and the distance check confirms them. The
first article of a story gives the story its id (its own fingerprint). The stores that
remember bands and stories across batches are the caller's (Redis in the workers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.fingerprint import distance

BANDS = 4
MAX_DISTANCE = 3


def bands(fingerprint: str) -> list[str]:
    """The band keys of a fingerprint, e.g. ``0:3fa2``."""
    width = len(fingerprint) // BANDS
    return [f"{i}:{fingerprint[i * width : (i + 1) * width]}" for i in range(BANDS)]


@dataclass
class Clustering:
    stories: list[str | None]  # per fingerprint given (None where there was none)
    new_stories: dict[str, str] = field(default_factory=dict)  # story id -> fingerprint
    new_bands: dict[str, str] = field(default_factory=dict)  # band -> story id


def cluster(
    fingerprints: list[str | None], known_bands: dict[str, str], known_stories: dict[str, str]
) -> Clustering:
    """The story of each fingerprint of a batch, given the bands and stories known before
    it (``band -> story``, ``story -> its first fingerprint``); articles earlier in the
    batch count as known. Returns what to remember for the next batches too."""
    local: dict[str, str] = {}  # band -> story, within this batch
    stories = dict(known_stories)
    out = Clustering(stories=[])
    for fingerprint in fingerprints:
        if not fingerprint:
            out.stories.append(None)
            continue
        story = None
        for band in bands(fingerprint):
            candidate = local.get(band) or known_bands.get(band)
            if (
                candidate
                and candidate in stories
                and distance(stories[candidate], fingerprint) <= MAX_DISTANCE
            ):
                story = candidate
                break
        if story is None:
            story = fingerprint
            stories[story] = fingerprint
            out.new_stories.setdefault(story, fingerprint)
        out.stories.append(story)
        for band in bands(fingerprint):
            local.setdefault(band, story)
            out.new_bands.setdefault(band, story)
    return out
