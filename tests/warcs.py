"""WARC files for the tests, written with warcio at test time (from real pages in
../shared/data where a test asks for them: publishers' pages are never committed)."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.conftest import SHARED_DATA

WCE = SHARED_DATA / "extraction" / "chinese_wce" / "original"
AEB = SHARED_DATA / "extraction" / "scrapinghub_aeb" / "html"


@dataclass
class Entry:
    """One record to write: a response unless ``kind`` says otherwise."""

    url: str
    body: bytes = b""
    status: str = "200 OK"
    content_type: str | None = "text/html; charset=utf-8"
    kind: str = "response"
    date: str = "2023-03-21T10:00:00Z"
    headers: list[tuple[str, str]] = field(default_factory=list)


def page(n: int, words: str = "") -> bytes:
    """A small page of the project's own words."""
    text = words or f"Story number {n} of the archive test, about nothing in particular."
    return (
        f"<html><head><title>Archive story {n}</title></head><body><article>"
        f"<h1>Archive story {n}</h1><p>{text}</p><p>{text} Again, in other words.</p>"
        "</article></body></html>"
    ).encode()


def write(
    entries: list[Entry], *, gzip_records: bool = True, version: str = "WARC/1.1"
) -> tuple[bytes, list[int]]:
    """The WARC bytes and the offset each record starts at."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gzip_records, warc_version=version)
    offsets = []
    for entry in entries:
        offsets.append(buffer.tell())
        warc_headers = {"WARC-Date": entry.date}
        if entry.kind in ("response", "revisit"):
            headers = list(entry.headers)
            if entry.content_type:
                headers.insert(0, ("Content-Type", entry.content_type))
            http = StatusAndHeaders(entry.status, headers, protocol="HTTP/1.1")
            if entry.kind == "revisit":
                record = writer.create_revisit_record(
                    entry.url,
                    digest="sha1:AAAA",
                    refers_to_uri=entry.url,
                    refers_to_date=entry.date,
                    http_headers=http,
                )
            else:
                record = writer.create_warc_record(
                    entry.url,
                    "response",
                    payload=io.BytesIO(entry.body),
                    length=len(entry.body),
                    http_headers=http,
                    warc_headers_dict=warc_headers,
                )
        else:
            record = writer.create_warc_record(
                entry.url,
                entry.kind,
                payload=io.BytesIO(entry.body),
                length=len(entry.body),
                warc_content_type="text/plain",
                warc_headers_dict=warc_headers,
            )
        writer.write_record(record)
    return buffer.getvalue(), offsets


def real_pages(limit: int = 40) -> list[tuple[str, bytes]]:
    """(url, bytes) of real news pages from ../shared/data (empty when it is absent):
    the Chinese pages as served (many GBK), then the English benchmark pages."""
    found: list[tuple[str, bytes]] = []
    for path in sorted(WCE.glob("*.html"))[: limit // 2]:
        found.append((f"https://wce.example.cn/{path.stem}.html", path.read_bytes()))
    for path in sorted(AEB.glob("*.html.gz"))[: limit - len(found)]:
        found.append(
            (f"https://aeb.example.com/{path.name[:16]}.html", gzip.decompress(path.read_bytes()))
        )
    return found


def write_file(path: Path, entries: list[Entry], **options: object) -> list[int]:
    data, offsets = write(entries, **options)  # type: ignore[arg-type]
    path.write_bytes(data)
    return offsets
