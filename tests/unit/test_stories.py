"""Story clustering (pipelines/stories.py) without Redis: copies of a story within a
Hamming distance of 3 share its id, across batches and within one."""

from __future__ import annotations

from pipelines.stories import bands, cluster


def flip(fingerprint: str, *bits: int) -> str:
    value = int(fingerprint, 16)
    for bit in bits:
        value ^= 1 << bit
    return f"{value:016x}"


A = "0123456789abcdef"
B = "fedcba9876543210"


def test_copies_within_three_bits_join_the_first_story_of_the_batch() -> None:
    result = cluster([A, flip(A, 1, 20, 40), B, flip(A, 1, 2, 3, 4), None], {}, {})
    assert result.stories == [A, A, B, flip(A, 1, 2, 3, 4), None]
    assert set(result.new_stories) == {A, B, flip(A, 1, 2, 3, 4)}
    assert all(result.new_bands[band] == A for band in bands(A))


def test_a_story_known_from_an_earlier_batch_keeps_its_id() -> None:
    earlier = cluster([A], {}, {})
    later = cluster([flip(A, 63)], earlier.new_bands, earlier.new_stories)
    assert later.stories == [A] and later.new_stories == {}


def test_a_band_shared_by_chance_with_a_distant_fingerprint_is_no_match() -> None:
    distant = A[:4] + B[4:]  # the first band equal, the rest far apart
    result = cluster([distant], *(lambda c: (c.new_bands, c.new_stories))(cluster([A], {}, {})))
    assert result.stories == [distant]
