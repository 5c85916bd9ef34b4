"""The whole pipeline: RawArticle -> index document, stage by stage."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, TypeVar

import numpy as np

from pipelines import dates
from pipelines.abbreviations import Abbreviations
from pipelines.article import Article, RawArticle, RejectArticle
from pipelines.clean import SourceRules, clean, dateline_end
from pipelines.decode import decode
from pipelines.document import Analysis, to_document
from pipelines.entities import Catalogue, candidates, group, summarize
from pipelines.extract import extract
from pipelines.fingerprint import simhash_of, to_hex, token_hash
from pipelines.keywords import KeywordModel, top_k
from pipelines.language import detect_language, language_tag
from pipelines.normalize import normalize
from pipelines.segment import Segmenter
from pipelines.topics import Context as TopicContext
from pipelines.topics import Topics, classify, load_topics
from pipelines.vocabulary import Vocabulary

T = TypeVar("T")
# A word tagged as a personal name with an IDF below this is a common word (顾问 7.0,
# 文明 6.7, 柏林 7.5, 阿里巴巴 8.7); names themselves are rare (郭台铭 11.3, and unknown
# words take the table's median, 12.1).
PERSON_MIN_IDF = 10.0
_START = itemgetter(1)  # Mention.start
MAX_TEXT_CHARS = 2_000_000
# The fetcher caps pages at 5 MiB; HTML beyond this size is no article (and costs a lot
# of memory to extract).
MAX_HTML_CHARS = 5_000_000
# Removed from titles and bodies: NUL and the other C0 controls but tab and newline (they
# have no place in text); invisible characters that split words for the matcher without
# changing what a reader sees (zero-width space, word joiner, invisible operators, BOM,
# soft hyphen, combining grapheme joiner, Mongolian vowel separator, variation selectors,
# tag characters); and bidi overrides and isolates, which can make a title display
# differently from what it says. ZWJ/ZWNJ go only beside Han and Latin letters, which
# never need them (other scripts and emoji do).
_INVISIBLE = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\u034f\u180e\u200b\u2060-\u2064\ufeff"
    "\u202a-\u202e\u2066-\u2069\ufe00-\ufe0f\U000e0000-\U000e007f\U000e0100-\U000e01ef"
)
_JOINERS = "\u200c\u200d"
_JOINED = "A-Za-z\u3400-\u9fff\uf900-\ufaff"
_UNWANTED = re.compile(f"[{_INVISIBLE}]|(?<=[{_JOINED}])[{_JOINERS}]+|[{_JOINERS}]+(?=[{_JOINED}])")
# Any character _UNWANTED could remove: one scan for it first is much cheaper than
# _UNWANTED's (whose lookbehind is tried at every character), and most texts have none.
_SUSPECT = re.compile(f"[{_INVISIBLE}{_JOINERS}]")


def _without_unwanted(text: str) -> str:
    return _UNWANTED.sub("", text) if _SUSPECT.search(text) else text


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
    """Holds the loaded catalogue, rules and dictionaries; ``process`` runs every stage."""

    def __init__(
        self,
        *,
        catalogue: Catalogue | None = None,
        topics: Topics | None = None,
        sources: SourceRules | None = None,
        keywords: KeywordModel | None = None,
        top_k: int = 12,
    ):
        self.catalogue = catalogue or Catalogue([])
        self.abbreviations = Abbreviations(
            (self.catalogue.entities[key], uses)
            for key, uses in self.catalogue.abbreviations.items()
        )
        self.topics = topics or Topics([])
        self.sources = sources or SourceRules(None)
        self.keywords = keywords or KeywordModel()
        self.top_k = top_k
        self.segmenter = Segmenter(self.catalogue.user_words())
        # Per-token keyword weights and hashes, computed once per token and process.
        self.vocabulary = Vocabulary(
            {"weight": (self.keywords.weight, np.float64), "hash": (token_hash, np.uint64)}
        )

    def _common_word(self, word: str) -> bool:
        """Too common in general text (by its IDF) to be a personal name."""
        return self.keywords.weight(word) < PERSON_MIN_IDF

    def _outlet(self, word: str) -> bool:
        """A news agency's short name: the dictionary knows it with 社 (彭博社, 路透社)."""
        return self.segmenter.has_word(word + "社")

    @classmethod
    def from_config(cls, config: dict[str, Any], idf_lines: Iterable[str] = ()) -> Pipeline:
        """Build from parsed config files: ``{"entities": [...], "topics": [...],
        "sources": {...}, "keywords": {...}}`` and jieba-format IDF lines."""
        keyword_conf = config.get("keywords") or {}
        catalogue = Catalogue(config.get("entities") or [])
        return cls(
            catalogue=catalogue,
            topics=load_topics(config.get("topics"), catalogue.entities, catalogue.alias_map()),
            sources=SourceRules(config.get("sources")),
            keywords=KeywordModel.from_lines(idf_lines, keyword_conf.get("stopwords") or []),
            top_k=int(keyword_conf.get("top_k", 12)),
        )

    def load(self, raw: RawArticle) -> Article:
        """decode + extract: whatever came in -> title and body text."""
        title = raw.title or ""
        lang_hint = raw.lang
        hints: dict[str, str] = {}
        byline: list[str] = []
        html = raw.html
        text = raw.text
        utf8 = None  # the HTML as UTF-8 bytes, when the page came so
        if raw.content is not None:
            decoded = _stage("decode", decode, raw.content, raw.headers)
            if decoded.text.lstrip()[:1] == "<":  # decode has dropped any byte-order mark
                html, utf8 = decoded.text, decoded.utf8
            else:
                text = decoded.text
        if html is not None:
            if len(html) > MAX_HTML_CHARS:
                raise RejectArticle("too_large", f"{len(html)} characters of HTML", stage="extract")
            found = _stage("extract", extract, html, utf8)
            title = title or found.title
            body = found.body
            byline = found.byline
            hints = found.dates
            lang_hint = lang_hint or found.lang_hint
        else:
            body = (text or "").strip()
        if len(body) > MAX_TEXT_CHARS:
            raise RejectArticle("too_large", f"{len(body)} characters of text", stage="extract")
        if raw.published_at:
            hints = {"feed": raw.published_at, **hints}
        if raw.sitemap_date:
            hints.setdefault("sitemap", raw.sitemap_date)
        if day := dates.url_date(raw.url):
            hints.setdefault("url", day)
        return Article(
            url=raw.url,
            title=_without_unwanted(title).strip(),
            body=_without_unwanted(body),
            source=raw.source,
            source_name=raw.source_name,
            feed_id=raw.feed_id,
            region=raw.region,
            byline=byline,
            date_hints=hints,
            lang=lang_hint or "und",
            text_source=raw.text_source,
        )

    def analyze(self, article: Article, lang: str) -> Analysis:
        """normalize, segment, entities, keywords, topics, fingerprint."""
        full = f"{article.title}\n{article.body}" if article.title else article.body
        norm = _stage("normalize", normalize, full)
        segmented = _stage("segment", self.segmenter.segment, norm.text)
        edges = segmented.edges()
        mentions = _stage("entities", self.catalogue.find, full, norm, edges)
        short = _stage("entities", self.abbreviations.find, full, norm, edges, mentions, segmented)
        by_id = group(mentions)
        abbreviated = group(short)
        entities = summarize(by_id, norm, lang, abbreviated)
        others = _stage(
            "entities",
            candidates,
            full,
            norm,
            segmented,
            mentions,
            common=self._common_word,
            outlet=self._outlet,
        )
        # The fingerprint skips what outlets write differently around one wire story:
        # the headline and the dateline (credits are gone already): ``story_tf`` counts
        # only words that end after them.
        head_end = (len(article.title) + 1 if article.title else 0) + dateline_end(article.body)
        keys, tf_bytes, story_bytes = segmented.counts(head_end)
        tf = np.frombuffer(tf_bytes)
        story_tf = np.frombuffer(story_bytes)
        features = _stage("vocabulary", self.vocabulary.features, keys)
        keywords = _stage("keywords", top_k, keys, tf * features["weight"], self.top_k)
        everything = by_id
        if abbreviated:
            everything = {
                key: sorted(by_id.get(key, []) + abbreviated.get(key, []), key=_START)
                for key in {**by_id, **abbreviated}
            }
        positions = {key: list(map(_START, found)) for key, found in everything.items()}
        by_type: dict[str, list[int]] = {}
        for key, found in everything.items():
            by_type.setdefault(found[0].entity.type, []).extend(positions[key])
        context = TopicContext(
            text=norm.text,
            entities=positions,
            types=by_type,
            token_list=lambda: [(word, start) for word, start, _ in segmented.tokens()],
            published=article.published_at.date() if article.published_at else None,
        )
        topics = _stage("topics", classify, self.topics, context)
        fingerprint = _stage("fingerprint", simhash_of, features["hash"], story_tf)
        return Analysis(
            text_norm=norm.text,
            text_tokens=segmented.text_tokens(),
            word_count=segmented.word_count,
            keywords=keywords,
            entities=entities,
            entities_other=others,
            topics=topics,
            fingerprint=to_hex(fingerprint),
        )

    def process(self, raw: RawArticle, *, now: datetime | None = None) -> dict[str, Any]:
        """RawArticle -> document. Raises RejectArticle with a reason and a stage."""
        now = dates.fetch_time(raw.fetched_at) or now or datetime.now(UTC)
        article = _stage("load", self.load, raw)
        article = _stage("clean", clean, article, rules=self.sources)
        if not article.body.strip():
            raise RejectArticle("empty_body", "no article text found", stage="clean")
        hint = language_tag(article.lang) if article.lang != "und" else None
        if article.lang != "und" and hint is None:
            article.notes.append(f"language hint {article.lang[:40]!r} is not a language tag")
        article.lang = _stage(
            "language",
            detect_language,
            f"{article.title}\n{article.body}",
            hint,
            article.script_counts,
        )
        published, how, notes = _stage(
            "dates", dates.resolve, article.date_hints, now=now, region=article.region
        )
        article.notes += notes
        if published is None:
            published, how = now, "fetched"
        article.published_at, article.published_at_source = published, how
        analysis = self.analyze(article, article.lang)
        return to_document(article, analysis, now=now)
