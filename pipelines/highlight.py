"""highlight: mark matched terms in the original text, found in its search form."""

from __future__ import annotations

from collections.abc import Iterable

from pipelines.normalize import NormText, fold, normalize


def find_spans(norm: NormText, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Spans of the original text where any term (in any script) occurs, merged."""
    spans: list[tuple[int, int]] = []
    for term in {fold(normalize(t).text) for t in terms if t.strip()}:
        start = norm.text.find(term)
        while start != -1:
            spans.append(norm.original_span(start, start + len(term)))
            start = norm.text.find(term, start + len(term))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(
    text: str, terms: Iterable[str], *, width: int = 160, marks: tuple[str, str] = ("[", "]")
) -> str:
    """About ``width`` characters of ``text`` around the first match, matches marked."""
    spans = find_spans(normalize(text), terms)
    flat = text.replace("\n", " ")
    if not spans:
        return flat[:width] + ("…" if len(flat) > width else "")
    first = spans[0][0]
    begin = max(0, first - width // 3)
    end = min(len(flat), begin + width)
    out, cursor = [], begin
    for start, stop in spans:
        if stop <= begin or start >= end:
            continue
        start, stop = max(start, begin), min(stop, end)
        out += [flat[cursor:start], marks[0], flat[start:stop], marks[1]]
        cursor = stop
    out.append(flat[cursor:end])
    return ("…" if begin else "") + "".join(out) + ("…" if end < len(flat) else "")
