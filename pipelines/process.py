"""The whole pipeline: RawArticle -> index document, stage by stage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pipelines import dates
from pipelines.article import Article, RawArticle, RejectArticle
from pipelines.decode import decode
from pipelines.document import Analysis, to_document
from pipelines.extract import extract
from pipelines.language import REGION_SCRIPT, detect_language
from pipelines.normalize import normalize
from pipelines.segment import Segmenter

T = TypeVar("T")
MAX_TEXT_CHARS = 2_000_000


def _stage(name: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one stage; an unexpected error becomes a rejection naming the stage."""
    try:
        return func(*args, **kwargs)
    except RejectArticle as exc:
        exc.stage = exc.stage or name
        raise
    except Exception as exc:  # a bug or a hostile input in one article: reject that one
        raise RejectArticle("stage_error", f"{type(exc).__name__}: {exc}", stage=name) from exc


class Pipeline:
    """Holds the loaded dictionaries; ``process`` is safe to call for every article."""

    def __init__(self, *, user_words: tuple[str, ...] = ()):
        self.segmenter = Segmenter(user_words)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Pipeline:
        """Build from parsed config files (``{"entities": ..., "topics": ...}``)."""
        return cls()

    def load(self, raw: RawArticle) -> Article:
        """decode + extract: whatever came in -> title and body text."""
        title = raw.title or ""
        lang_hint = raw.lang
        hints: dict[str, str] = {}
        byline: list[str] = []
        html = raw.html
        if raw.content is not None:
            decoded = _stage("decode", decode, raw.content, raw.headers)
            if decoded.text.lstrip()[:1] == "<":
                html = decoded.text
            else:
                raw.text = decoded.text
        if html is not None:
            if len(html) > MAX_TEXT_CHARS * 5:
                raise RejectArticle("too_large", f"{len(html)} characters of HTML", stage="extract")
            found = _stage("extract", extract, html)
            title = title or found.title
            body = found.body
            byline = found.byline
            hints = found.dates
            lang_hint = lang_hint or found.lang_hint
        else:
            body = (raw.text or "").strip()
        if len(body) > MAX_TEXT_CHARS:
            raise RejectArticle("too_large", f"{len(body)} characters of text", stage="extract")
        if raw.published_at:
            hints = {"feed": raw.published_at, **hints}
        article = Article(
            url=raw.url,
            title=title.strip(),
            body=body,
            source=raw.source,
            source_name=raw.source_name,
            feed_id=raw.feed_id,
            region=raw.region,
            byline=byline,
            date_hints=hints,
            lang=lang_hint or "und",
            text_source=raw.text_source,
        )
        return article

    def process(self, raw: RawArticle, *, now: datetime | None = None) -> dict[str, Any]:
        """RawArticle -> document. Raises RejectArticle with a reason and a stage."""
        now = now or datetime.now(UTC)
        article = self.load(raw)
        if not article.body.strip():
            raise RejectArticle("empty_body", "no article text found", stage="extract")
        hint = None if article.lang == "und" else article.lang
        article.lang = _stage("language", detect_language, f"{article.title}\n{article.body}", hint)
        if article.region is None and article.lang.startswith("zh"):
            article.region = None  # set from the source's config, never guessed
        published, how = _stage("dates", dates.resolve, article.date_hints, now=now)
        article.published_at, article.published_at_source = published, how
        full = f"{article.title}\n{article.body}" if article.title else article.body
        norm = _stage("normalize", normalize, full)
        tokens = _stage("segment", self.segmenter.tokens, norm.text)
        analysis = Analysis(text_norm=norm.text, tokens=[t.text for t in tokens])
        return to_document(article, analysis, now=now)


__all__ = ["REGION_SCRIPT", "Pipeline"]
