"""Reading WARC files into articles (workers/archives/warc.py): what is kept, what is
counted and skipped, unreadable records, and resuming at a record."""

from __future__ import annotations

import gzip
import io
import zlib

import pytest

from tests.warcs import Entry, page, real_pages, write
from workers.archives.warc import Counts, records


def _read(data: bytes, start: int = 0, **options: int) -> tuple[list[str], Counts]:
    counts = Counts()
    urls = [r.raw.url or "" for r in records(io.BytesIO(data), counts, start=start, **options)]
    return urls, counts


@pytest.mark.parametrize("version", ["WARC/1.0", "WARC/1.1"])
@pytest.mark.parametrize("gzipped", [True, False])
def test_a_response_record_is_an_article_with_its_url_and_fetch_time(
    version: str, gzipped: bool
) -> None:
    data, offsets = write(
        [Entry(f"https://news.example.org/{n}", page(n)) for n in range(3)],
        gzip_records=gzipped,
        version=version,
    )
    counts = Counts()
    found = list(records(io.BytesIO(data), counts))
    assert [r.offset for r in found] == offsets
    raw = found[1].raw
    assert raw.url == "https://news.example.org/1"
    assert raw.content == page(1)
    assert raw.fetched_at == "2023-03-21T10:00:00+00:00"
    assert raw.text_source == "archive"
    assert raw.headers == {"content-type": "text/html; charset=utf-8"}
    assert counts.as_dict() == {"records": 3, "articles": 3, "other": 0}


def test_revisits_other_answers_and_other_types_are_counted_not_kept() -> None:
    data, _ = write(
        [
            Entry("https://a.example/", b"", kind="warcinfo"),
            Entry("https://a.example/1", page(1)),
            Entry("https://a.example/1", kind="revisit"),
            Entry("https://a.example/gone", b"gone", status="404 Not Found"),
            Entry("https://a.example/moved", b"", status="301 Moved Permanently"),
            Entry("https://a.example/logo.png", b"\x89PNG", content_type="image/png"),
            Entry("https://a.example/untyped", page(2), content_type=None),
            Entry("https://a.example/data", b'{"a": 1}', content_type=None),
            Entry("https://a.example/2", b"GET / HTTP/1.1", kind="request"),
            Entry("https://a.example/3", b"notes", kind="metadata"),
        ]
    )
    urls, counts = _read(data)
    assert urls == ["https://a.example/1", "https://a.example/untyped"]
    assert counts.other == 3
    assert counts.skipped == {"revisit": 1, "not_200": 2, "not_html": 2}


def test_a_corrupt_record_and_a_file_cut_short_are_counted_and_the_rest_is_read() -> None:
    for gzipped in (True, False):
        data, offsets = write(
            [Entry(f"https://a.example/{n}", page(n)) for n in range(6)], gzip_records=gzipped
        )
        broken = bytearray(data)
        if gzipped:  # bytes in the middle of the third member
            middle = (offsets[2] + offsets[3]) // 2
            broken[middle : middle + 8] = b"\0" * 8
        else:  # the third record's version line
            broken[offsets[2] : offsets[2] + 8] = b"XXXXXXXX"
        cut = bytes(broken[: (offsets[5] + len(broken)) // 2])  # the last one cut in half
        urls, counts = _read(cut)
        assert urls == [f"https://a.example/{n}" for n in (0, 1, 3, 4)], gzipped
        assert counts.skipped == {"corrupt": 2}, gzipped


def test_garbage_is_one_corrupt_record_not_an_error() -> None:
    urls, counts = _read(b"this is not a web archive\n" * 100)
    assert urls == [] and counts.skipped == {"corrupt": 1}


def test_a_stream_that_cannot_seek_stops_at_its_first_unreadable_record() -> None:
    data, offsets = write([Entry(f"https://a.example/{n}", page(n)) for n in range(4)])
    broken = bytearray(data)
    middle = (offsets[2] + offsets[3]) // 2
    broken[middle : middle + 8] = b"\0" * 8

    class Pipe(io.BytesIO):
        def seekable(self) -> bool:
            return False

    counts = Counts()
    urls = [r.raw.url for r in records(Pipe(bytes(broken)), counts)]
    assert urls == ["https://a.example/0", "https://a.example/1"]
    assert counts.skipped == {"corrupt": 1}


def test_reading_resumes_at_a_records_offset() -> None:
    data, offsets = write([Entry(f"https://a.example/{n}", page(n)) for n in range(5)])
    counts = Counts()
    found = list(records(io.BytesIO(data), counts, start=offsets[3]))
    assert [r.raw.url for r in found] == ["https://a.example/3", "https://a.example/4"]
    assert [r.offset for r in found] == offsets[3:]  # offsets in the file, not the read
    assert counts.records == 2


def test_a_body_is_unchunked_and_one_content_coding_undone_under_the_cap() -> None:
    body = page(7)
    chunked = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 50]), body[i : i + 50]) for i in range(0, len(body), 50)
    )
    bomb = gzip.compress(b"<html>" + b" " * 5_000_000)
    deflated = zlib.compress(body)
    data, _ = write(
        [
            Entry(
                "https://a.example/gz", gzip.compress(body), headers=[("Content-Encoding", "gzip")]
            ),
            Entry("https://a.example/deflate", deflated, headers=[("Content-Encoding", "deflate")]),
            Entry("https://a.example/chunked", chunked, headers=[("Transfer-Encoding", "chunked")]),
            Entry("https://a.example/bomb", bomb, headers=[("Content-Encoding", "gzip")]),
            Entry("https://a.example/br", b"xx", headers=[("Content-Encoding", "br")]),
            Entry("https://a.example/big", b"<html>" + b" " * 200_000),
        ]
    )
    counts = Counts()
    found = {r.raw.url: r.raw.content for r in records(io.BytesIO(data), counts, max_bytes=100_000)}
    assert found == {
        "https://a.example/gz": body,
        "https://a.example/deflate": body,
        "https://a.example/chunked": body,
    }
    assert counts.skipped == {"undecodable": 2, "too_large": 1}


def test_real_pages_read_back_as_written() -> None:
    pages = real_pages(20)
    if not pages:
        pytest.skip("../shared/data is absent: no real pages to build an archive from")
    data, _ = write([Entry(url, body, content_type="text/html") for url, body in pages])
    counts = Counts()
    found = [(r.raw.url, r.raw.content) for r in records(io.BytesIO(data), counts)]
    assert found == pages
    assert counts.skipped == {}
