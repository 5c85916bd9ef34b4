"""WARC 1.0 and 1.1 files (gzipped by record, as Common Crawl's CC-NEWS, or plain) read
into raw articles: a response record's ``WARC-Target-URI`` is the article's URL, its
``WARC-Date`` the fetch time, its HTTP body the page. Revisits, answers other than
200, bodies that are not HTML and records that cannot be read are counted and skipped.

Each record is read where it starts (``Record.offset``), so a reader can begin at any
record boundary: ``records(stream, start=offset)`` resumes there. A record that cannot
be read (a corrupt gzip member, a broken header, a file cut short) is counted as
``corrupt`` and reading goes on at the next record that can be read.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO

from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from pipelines.article import RawArticle
from workers.fetching.http import FetchError, inflater

HTML_TYPES = ("text/html", "application/xhtml+xml")
# Bytes that start a record: a gzip member, or a plain WARC header.
STARTS = (b"\x1f\x8b\x08", b"WARC/1.")
SCAN_CHUNK = 1 << 20
SKIPS = ("revisit", "not_200", "not_html", "too_large", "undecodable", "no_url", "corrupt")


@dataclass
class Counts:
    """What reading found: records read, articles kept, and the skipped by reason
    (``SKIPS``); records of other types (requests, warcinfo, metadata) as ``other``."""

    records: int = 0
    articles: int = 0
    other: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, int]:
        return {
            "records": self.records,
            "articles": self.articles,
            "other": self.other,
            **{f"skipped_{reason}": n for reason, n in self.skipped.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> Counts:
        skipped = Counter(
            {
                k.removeprefix("skipped_"): int(v)
                for k, v in data.items()
                if k.startswith("skipped_")
            }
        )
        return cls(
            int(data.get("records", 0)),
            int(data.get("articles", 0)),
            int(data.get("other", 0)),
            skipped,
        )


@dataclass
class Record:
    """A response record kept as an article, with the offset its record starts at."""

    offset: int
    raw: RawArticle


def records(
    stream: BinaryIO, counts: Counts, *, start: int = 0, max_bytes: int = 10 * 2**20
) -> Iterator[Record]:
    """The articles of a WARC stream from the record at ``start``, counting the rest
    in ``counts``. A stream that cannot seek (stdin) is read to its first unreadable
    record, counted as ``corrupt``; a file goes on at the next readable record."""
    seekable = stream.seekable()
    position = start
    while True:
        if seekable:
            stream.seek(position)
        last = None
        try:
            for record in ArchiveIterator(stream, parse_http=True):
                last = record.stream_pos + (position if not seekable else 0)
                counts.records += 1
                kept = _article(record, counts, max_bytes)
                if kept is not None:
                    counts.articles += 1
                    yield Record(last, kept)
            if seekable and _left_over(stream, last if last is not None else position, last):
                counts.skipped["corrupt"] += 1  # a last record cut in its gzip header
            return
        except OSError:  # fastwarc's error for a corrupt member or a broken header
            counts.skipped["corrupt"] += 1
            if not seekable:
                return
        resume = _next_start(stream, (last if last is not None else position) + 1)
        if resume is None:
            return
        position = resume


def _next_start(stream: BinaryIO, after: int) -> int | None:
    """The offset of the next record that can be read, at or after ``after``."""
    stream.seek(after)
    offset, tail = after, b""
    while chunk := stream.read(SCAN_CHUNK):
        data = tail + chunk
        base = offset - len(tail)
        found = [i for i in (data.find(mark) for mark in STARTS) if i >= 0]
        while found:
            at = base + min(found)
            if _readable(stream, at):
                return at
            after_at = at + 1 - base
            found = [i for i in (data.find(mark, after_at) for mark in STARTS) if i >= 0]
        tail = data[-8:]
        offset += len(chunk)
        stream.seek(offset)
    return None


def _left_over(stream: BinaryIO, at: int, last: int | None) -> bool:
    """Whether bytes that are not zero padding follow the gzip member at ``at`` (the
    last record read, or where reading began when ``last`` is None): a record whose
    start was read as the end of the file."""
    stream.seek(at)
    if last is None:
        return bool(stream.read(4096).strip(b"\0"))
    if stream.read(2) != b"\x1f\x8b":
        return False  # a plain WARC: a record cut short has no whole HTTP head
    stream.seek(at)
    member = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        while not member.eof and (chunk := stream.read(SCAN_CHUNK)):
            member.decompress(chunk, 1)
            while member.unconsumed_tail and not member.eof:
                member.decompress(member.unconsumed_tail, SCAN_CHUNK)
    except zlib.error:
        return True
    rest = member.unused_data + stream.read(4096)
    return bool(rest[:4096].strip(b"\0"))


def _readable(stream: BinaryIO, at: int) -> bool:
    stream.seek(at)
    try:
        for record in ArchiveIterator(stream, parse_http=True):
            record.reader.read()
            return True
    except OSError:
        return False
    return False


def _article(record: WarcRecord, counts: Counts, max_bytes: int) -> RawArticle | None:
    kind = record.record_type
    if kind == WarcRecordType.revisit:
        counts.skipped["revisit"] += 1
        return None
    if kind != WarcRecordType.response:
        counts.other += 1
        record.reader.read()
        return None
    url = (record.headers.get("WARC-Target-URI") or "").strip().strip("<>")
    if not url:
        counts.skipped["no_url"] += 1
        return None
    http = record.http_headers
    if http is None or http.status_code is None or not record.headers.get("Content-Length"):
        counts.skipped["corrupt"] += 1  # a response without a whole HTTP head: cut short
        return None
    if http.status_code != 200:
        counts.skipped["not_200"] += 1
        return None
    headers = {str(k).lower(): str(v) for k, v in http.items()}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    body = record.reader.read(max_bytes + 1)
    if len(body) > max_bytes:
        counts.skipped["too_large"] += 1
        return None
    if content_type not in HTML_TYPES and not (not content_type and _looks_like_html(body)):
        counts.skipped["not_html"] += 1
        return None
    try:
        body = _decoded(body, headers, max_bytes)
    except ValueError:
        counts.skipped["undecodable"] += 1
        return None
    keep = {k: v for k, v in headers.items() if k in ("content-type", "content-language")}
    return RawArticle(
        url=url,
        content=body,
        headers=keep,
        fetched_at=_warc_date(record.headers.get("WARC-Date")),
        text_source="archive",
    )


def _looks_like_html(body: bytes) -> bool:
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"


def _decoded(body: bytes, headers: dict[str, str], max_bytes: int) -> bytes:
    """The body as the server meant it: chunks joined, one content coding undone (as
    the fetcher undoes it), never more than ``max_bytes``. Raises ValueError when it
    cannot be."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _unchunked(body)
    try:
        inflate = inflater(headers.get("content-encoding", ""), "")
        if inflate is None:
            return body
        pieces, size = [], 0
        for piece in inflate(body):
            size += len(piece)
            if size > max_bytes:
                raise ValueError("larger than the cap")
            pieces.append(piece)
    except FetchError as exc:
        raise ValueError(exc.reason) from exc
    return b"".join(pieces)


def _unchunked(body: bytes) -> bytes:
    parts, at = [], 0
    while at < len(body):
        end = body.find(b"\r\n", at)
        if end < 0:
            raise ValueError("a chunk without its size line")
        try:
            size = int(body[at:end].split(b";")[0], 16)
        except ValueError as exc:
            raise ValueError("a bad chunk size") from exc
        if size == 0:
            break
        parts.append(body[end + 2 : end + 2 + size])
        at = end + 2 + size + 2
    return b"".join(parts)


def _warc_date(value: str | None) -> str | None:
    """WARC-Date (W3C-ISO8601, UTC) as an ISO 8601 time; None when it is not one."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).isoformat()
