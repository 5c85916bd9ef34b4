"""Reading articles from files and stdin, and the payload format staged in Redis.

Accepted: text, HTML (raw bytes: the pipeline decodes them, whatever the encoding),
``.json`` (one object or a list), ``.jsonl`` (one object a line), any of them gzipped,
folders (recursively), and ``-`` for stdin. The content decides the format, not the
name: a page saved as ``.shtml``, ``.php`` or without an extension is HTML because it
starts with ``<``; a gzip stream is recognised by its magic bytes and unpacked up to
MAX_FILE_BYTES. Only ``.json`` and ``.jsonl`` files are read as JSON by their name.
An object has ``text`` or ``html`` and optional ``url``, ``title``, ``source``,
``published_at`` and the other RawArticle fields.
"""

from __future__ import annotations

import base64
import codecs
import json
import sys
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipelines.article import RawArticle, RejectArticle

# Files a folder is searched for (and files without an extension); any of them may be
# gzipped (``page.html.gz``).
EXTENSIONS = (
    ".txt", ".text", ".html", ".htm", ".xhtml", ".shtml", ".php", ".asp", ".aspx", ".jsp",
    ".json", ".jsonl", ".gz",
)  # fmt: skip
# Web archives in a folder are read record by record (workers/archives), not here.
ARCHIVES = (".warc", ".warc.gz")
MAX_FILE_BYTES = 50 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class Item:
    """One article read from an input, or the reason it could not be read."""

    where: str
    payload: dict[str, Any] | None = None
    error: str | None = None


def to_payload(raw: RawArticle) -> dict[str, Any]:
    """A RawArticle as a payload to stage (workers/state.py keeps ``content``, the page
    bytes, beside the rest)."""
    return {k: v for k, v in asdict(raw).items() if v not in (None, {}, "")}


def raw_from_payload(payload: dict[str, Any]) -> RawArticle:
    """The RawArticle a payload holds (fields that are not RawArticle's, such as a feed
    item's ``doc_id`` and ``fingerprint``, are left out)."""
    if "fingerprint" in payload and "text_source" not in payload:  # a feed item, staged
        return _staged_before(payload)  # by an earlier version
    data = dict(payload)
    content = data.pop("content", None)
    headers = data.pop("headers", None) or {}
    raw = RawArticle(**{k: v for k, v in data.items() if k in RawArticle.__dataclass_fields__})
    raw.headers = headers
    if content is not None:  # base64 text in a payload staged by an earlier version
        raw.content = content if isinstance(content, bytes) else base64.b64decode(content)
    return raw


def _staged_before(payload: dict[str, Any]) -> RawArticle:
    """A feed item staged by a version before items were staged as RawArticles (the
    staging TTL keeps such payloads up to a week after an upgrade)."""
    content = payload.get("content_html") or payload.get("summary") or ""
    return RawArticle(
        url=payload["url"],
        title=payload.get("title") or None,
        source=payload.get("source"),
        source_name=payload.get("source_name"),
        feed_id=payload.get("feed_id"),
        published_at=payload.get("published") or payload.get("updated"),
        region=payload.get("region"),
        lang=payload.get("lang"),
        html=f"<html><body><article>{content}</article></body></html>" if content.strip() else None,
        text_source="feed",
    )


def _objects(text: str, where: str, *, lines_format: bool = False) -> Iterator[Item]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except ValueError as exc:
            yield Item(where, error=f"not valid JSON: {exc}")
            return
        for i, obj in enumerate(data, 1):
            yield _object(obj, f"{where}[{i}]")
        return
    lines = [line for line in text.splitlines() if line.strip()]
    if lines_format or (len(lines) > 1 and all(ln.lstrip().startswith("{") for ln in lines[:5])):
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                yield Item(f"{where}:{n}", error=f"not valid JSON: {exc}")
                continue
            yield _object(obj, f"{where}:{n}")
        return
    try:
        obj = json.loads(text)
    except ValueError as exc:
        yield Item(where, error=f"not valid JSON: {exc}")
        return
    yield _object(obj, where)


def _object(obj: Any, where: str) -> Item:
    if not isinstance(obj, dict):
        return Item(where, error="expected a JSON object with 'text' or 'html'")
    try:
        return Item(where, payload=to_payload(RawArticle.from_dict(obj)))
    except RejectArticle as exc:
        return Item(where, error=exc.detail or exc.reason)


def gunzip(data: bytes, limit: int = MAX_FILE_BYTES) -> bytes:
    """A gzip stream (one member or several) unpacked; ValueError past ``limit`` bytes
    or on a damaged stream. Never holds more than ``limit`` bytes of output."""
    out = bytearray()
    while data:
        inflater = zlib.decompressobj(wbits=31)
        try:
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise ValueError(f"not valid gzip: {exc}") from exc
        if len(out) > limit:
            raise ValueError(f"unpacks to more than {limit // 2**20} MiB")
        if not inflater.eof:
            raise ValueError("not valid gzip: the stream is cut short")
        data = inflater.unused_data.lstrip(b"\0")
    return bytes(out)


def read_bytes(data: bytes, where: str, suffix: str) -> Iterator[Item]:
    """Articles in one file's (or stdin's) bytes. The content decides the format:
    markup is HTML; JSON is read for ``.json``/``.jsonl`` files and for input without a
    name or extension (``suffix`` empty) that starts like JSON; the rest is text."""
    if data.startswith(GZIP_MAGIC):
        try:
            data = gunzip(data)
        except ValueError as exc:
            yield Item(where, error=str(exc))
            return
    sniffed = sniff_suffix(data)
    if sniffed == ".html" or not suffix:
        suffix = sniffed  # markup is HTML whatever the name; unnamed input: JSON too
    elif suffix not in (".json", ".jsonl"):
        suffix = ".txt"
    if suffix == ".html":
        yield Item(where, payload=to_payload(RawArticle(content=data, text_source="file")))
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if suffix == ".txt":
            yield Item(where, payload=to_payload(RawArticle(content=data)))
        else:
            yield Item(where, error="not UTF-8 (JSON input must be UTF-8)")
        return
    if suffix in (".json", ".jsonl"):
        yield from _objects(text, where, lines_format=suffix == ".jsonl")
    elif not text.strip():
        yield Item(where, error="empty file")
    else:
        yield Item(where, payload=to_payload(RawArticle(text=text)))


def sniff_suffix(data: bytes) -> str:
    """The format from the first character: JSON lines, a JSON array, HTML, or text.
    A UTF-8 byte-order mark is skipped."""
    head = data.removeprefix(codecs.BOM_UTF8).lstrip()[:1]
    return {b"{": ".jsonl", b"[": ".json", b"<": ".html"}.get(head, ".txt")


def read_inputs(paths: list[str]) -> Iterator[Item]:
    """Every article in the given paths; unreadable inputs come out as Items with errors."""
    for name in paths:
        if name == "-":
            data = sys.stdin.buffer.read()
            yield from read_bytes(data, "<stdin>", "")
            continue
        path = Path(name)
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if (p.suffix.lower() in EXTENSIONS or not p.suffix)
                and not p.name.startswith(".")
                and not p.name.lower().endswith(ARCHIVES)
                and p.is_file()
            )
            if not files:
                yield Item(
                    name, error=f"no files without an extension or with {', '.join(EXTENSIONS)}"
                )
            for file in files:
                yield from _read_file(file)
        else:
            yield from _read_file(path)


def _read_file(path: Path) -> Iterator[Item]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            yield Item(str(path), error=f"larger than {MAX_FILE_BYTES // 2**20} MiB")
            return
        data = path.read_bytes()
    except FileNotFoundError:
        yield Item(str(path), error="no such file or folder")
        return
    except OSError as exc:
        yield Item(str(path), error=f"cannot read: {exc.strerror or exc}")
        return
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    yield from read_bytes(data, str(path), suffixes[-1] if suffixes else "")
