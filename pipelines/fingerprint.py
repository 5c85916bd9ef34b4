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


def token_hash(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")


def simhash(tokens: list[str] | Counter[str]) -> int:
    counts = tokens if isinstance(tokens, Counter) else Counter(tokens)
    hashes = np.fromiter(map(token_hash, counts), dtype=np.uint64, count=len(counts))
    weights = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    return simhash_of(hashes, weights)


def simhash_of(hashes: np.ndarray, weights: np.ndarray) -> int:
    """The SimHash of tokens given by their 64-bit hashes and weights (counts)."""
    if not len(hashes):
        return 0
    # Counts are small integers, exact in float32.
    weights = weights.astype(np.float32)
    bits = np.unpackbits(hashes.view(np.uint8).reshape(-1, 8), axis=1, bitorder="little")
    # Each bit's vote is sum(w * (+1 if set else -1)) = 2 * (weight of set bits) - total.
    votes = (weights @ bits.astype(np.float32)) * 2 > weights.sum()
    return int.from_bytes(np.packbits(votes, bitorder="little").tobytes(), "little")


def to_hex(value: int) -> str:
    return f"{value:016x}"


def distance(a: int | str, b: int | str) -> int:
    """Hamming distance between two fingerprints (ints or hex strings)."""
    x = int(a, 16) if isinstance(a, str) else a
    y = int(b, 16) if isinstance(b, str) else b
    return (x ^ y).bit_count()
