"""Native core of the mediamon pipeline: jieba-rs segmentation, kept in Rust, the HTML
nesting cap and the emptying of scripts and styles applied before parsing, and the scan
for one-character abbreviations."""

from typing import final

def cap_depth(html: bytes, limit: int) -> bytes:
    """UTF-8 ``html`` without the tags nested deeper than ``limit`` (their text stays); the
    same object when nothing is nested that deep."""

def trim_markup(html: bytes, limit: int) -> bytes:
    """``cap_depth``, and the content of every script (but JSON-LD) and style element
    removed, its tags kept; the same object when there is nothing to cut."""

@final
class Segmentation:
    """A segmented text; offsets are string indices."""

    @staticmethod
    def from_pairs(pairs: list[tuple[str, str]]) -> Segmentation: ...
    def __len__(self) -> int: ...
    @property
    def word_count(self) -> int: ...
    def text_tokens(self) -> str: ...
    def counts(self, head_end: int) -> tuple[list[str], bytes, bytes]: ...
    def edges(self) -> bytes: ...
    def names(self) -> list[tuple[int, str, str, int, int]]: ...
    def piece(self, index: int) -> tuple[str, str, int, int] | None: ...
    def tokens(self) -> list[tuple[str, int, int]]: ...

@final
class Segmenter:
    def __init__(
        self,
        user_words: list[str],
        user_freq: int,
        user_tag: str = "nz",
        word_table: int = 100_000,
    ) -> None: ...
    def segment(self, text: str) -> Segmentation: ...
    def has_word(self, word: str) -> bool: ...
    def tag(self, text: str) -> list[tuple[str, str]]: ...
    def cut(self, text: str) -> list[str]: ...

@final
class Shapes:
    """The abbreviation scan over the tables of ``pipelines.abbreviations.Abbreviations``."""

    def __init__(
        self,
        country: dict[str, int],
        compound: dict[str, int],
        verb_only: dict[str, int],
        leader: dict[str, int],
        beside: dict[str, tuple[str, int]],
        verbs: str,
        nouns: list[str],
        traps: list[str],
    ) -> None: ...
    def find(
        self,
        text: str,
        edges: bytes,
        names: list[tuple[int, int]],
        segmentation: Segmentation | None = None,
    ) -> list[tuple[int, int]]: ...
