"""fingerprint: a 64-bit SimHash of the search-form tokens, for near-duplicate stories.

Wire stories republished by several outlets differ in a headline, a dateline or a
closing line; their SimHashes differ in a few bits (``distance``), while unrelated
articles differ in about 32. Tokens are weighted by count; blake2b gives stable
64-bit hashes (Python's ``hash`` is salted per process).
"""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np

# token -> 64-bit hash. A long-running worker sees an endless tail of new tokens (numbers,
# names), so the memo is emptied when it would pass MEMO_TOKENS: about 10 MiB at the most.
MEMO_TOKENS = 100_000
_HASHES: dict[str, int] = {}


def _hash(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")


def simhash(tokens: list[str] | Counter[str]) -> int:
    counts = tokens if isinstance(tokens, Counter) else Counter(tokens)
    if not counts:
        return 0
    # Not counts.keys() - _HASHES.keys(): that walks the whole memo (100,000 tokens)
    missing = [t for t in counts if t not in _HASHES]
    if len(_HASHES) + len(missing) > MEMO_TOKENS:
        _HASHES.clear()
        missing = list(counts)
    _HASHES.update(zip(missing, map(_hash, missing), strict=True))
    hashes = np.fromiter(map(_HASHES.__getitem__, counts), dtype=np.uint64, count=len(counts))
    # Counts are small integers, exact in float32.
    weights = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
    bits = np.unpackbits(hashes.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    # Each bit's vote is sum(w * (+1 if set else -1)) = 2 * (weight of set bits) - total.
    packed = np.packbits((weights @ bits.astype(np.float32)) * 2 > weights.sum(), bitorder="little")
    return int.from_bytes(packed.tobytes(), "little")


def to_hex(value: int) -> str:
    return f"{value:016x}"


def distance(a: int | str, b: int | str) -> int:
    """Hamming distance between two fingerprints (ints or hex strings)."""
    x = int(a, 16) if isinstance(a, str) else a
    y = int(b, 16) if isinstance(b, str) else b
    return (x ^ y).bit_count()
