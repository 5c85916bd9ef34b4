"""extract: HTML -> title, body paragraphs, byline, date strings, language hints.

A text-density extractor on the lexbor parser (selectolax): paragraphs vote for their
parent and grandparent, the best-scoring container is the article, and its paragraphs
in document order are the body. Link-heavy blocks and chrome (navigation, share bars,
related-article lists) are dropped before voting. Dates stay strings here; the dates
stage parses them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from mediamon_native import trim_markup
from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipelines.visible import is_outlet, visible_byline, visible_date

DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "iframe",
    "button",
    "nav",
    "footer",
    "aside",
    "select",
    "input",
    "textarea",
    "figure figcaption",
    "header",
)
_DROP = ", ".join(DROP_TAGS)
# Words of a class, id or role that name chrome, matched whole (between spaces, "_" and
# "-", in any case): "nav", "top-nav", "share_bar", "right-side-bar"; not "navigation".
CHROME = frozenset(
    "nav menu footer sidebar side-bar breadcrumb share social comment related recommend "
    "promo advert ad ads banner subscribe newsletter copyright tag tags toolbar popup modal "
    "cookie consent privacy gdpr login pagination more-news hot-news rank caption gallery "
    "slideshow carousel".split()
)
# Class or id names (whole) of readers' comment sections: WordPress, Disqus and the like.
COMMENTS = frozenset(
    "comments commentlist comment-list comments-list comments-area comment-area "
    "comments-section comment-section disqus_thread".split()
)
# A class or id that names the article's own text ("l-sidebar-fixed l-article-body-segment"
# is the story, whatever else its classes say).
CONTENT = re.compile(
    r"article[-_]?(body|content|text)|story[-_]?(body|content|text)|post[-_]?(body|content)|"
    r"entry[-_]?content|articlebody",
    re.IGNORECASE,
)
BLOCK_TAGS = ("p", "h2", "h3", "h4", "li", "blockquote", "pre")
# Containers whose own text (outside child blocks) counts as paragraphs: some sites
# write paragraphs as <div class="paragraph">, or a whole story as text between <br>s
# in a <div>, <td> or <span>.
TEXT_CONTAINERS = ("div", "td", "section", "span")
# Paragraphs directly in the best container's parent, as a share of the best score,
# that make the parent the story's container.
PARENT_SHARE = 0.2
# A line of a container's own text with more of its weight in links is a list of links
# (related stories, tags, a byline's profile links), not prose.
LINE_LINK_SHARE = 0.3
# Elements that flow inside a line of text: their text belongs to the line around them.
# (<small> is left out: it holds fine print, dates and bylines more often than words of
# the sentence around it.)
INLINE_TAGS = frozenset(
    "a b strong em i u s span font big sup sub abbr cite q mark time code kbd "
    "var dfn bdi bdo del ins wbr label".split()
)
# A headline is cut at most to this many characters, before anything else reads it.
TITLE_MAX_CHARS = 500
# Separators before a site name at the end of a headline: " - Site", " | Site",
# "｜网站名", "_网站名". A hyphen or dash only with spaces around it ("Xi-Putin" stays).
_TIGHT_SEPARATORS = "|｜_"
_SPACED_SEPARATORS = "-–—:·•"
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# Runs of spaces other than line breaks; a lone ASCII space, which stays as it is, is
# left out of the matches (most of them: replacing each with itself is most of the time).
_SPACE = re.compile(r"[\t\r\f\v\u00a0\u3000][ \t\r\f\v\u00a0\u3000]*| [ \t\r\f\v\u00a0\u3000]+")
_ANY_SPACE = re.compile(r"[^\S ]\s*| \s+")  # any run of white space but a lone space
# A source line break between two Chinese characters is no space (CSS's segment-break
# rule for East Asian text): "北\n京" is 北京.
_CJK_BREAK = re.compile(
    r"(?<=[\u3001-\u303f\u3400-\u9fff\uf900-\uff60])[ \t\r]*\n\s*"
    r"(?=[\u3001-\u303f\u3400-\u9fff\uf900-\uff60])"
)


def _flow(text: str) -> str:
    """Text as a browser lays it out in one block: line breaks and runs of spaces are
    one space, none between Chinese characters."""
    if "\n" in text:
        text = _CJK_BREAK.sub("", text)
    return _ANY_SPACE.sub(" ", text).strip()


# The deepest element nesting handed to the HTML parser. The HTML tree builder scans its
# stack of open elements for many tags, so its time grows with the square of the depth
# (100,000 nested <div>s took 37 s); news pages nest a few dozen deep. Tags deeper than
# this are dropped before parsing, in native code (native/src/markup.rs: one pass over
# the bytes, which also empties scripts and styles), and their text stays with the
# element at the limit.
MAX_DEPTH = 256


@dataclass
class Extracted:
    title: str = ""
    body: str = ""
    byline: list[str] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)
    lang_hint: str | None = None


def _weight(text: str) -> int:
    """Characters that carry content: a CJK character counts as much as ~3 Latin ones."""
    if text.isascii():  # a flag of the string: no scan
        return len(text)
    return len(text) + 2 * sum(map(len, _CJK_RUN.findall(text)))


def _clean_space(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def clean_title(title: str, site_names: Iterable[str] = ()) -> str:
    """A headline on one line, at most TITLE_MAX_CHARS long, without a site-name suffix.

    Only a name the site declares for itself (``site_names``: og:site_name, the JSON-LD
    publisher, application-name, or what the <title> adds after the headline) is cut,
    and only after a separator: "Xi-Putin summit ends in Moscow" keeps every word.
    Linear in the input: white space is collapsed and the length capped before any
    comparison.
    """
    title = _flow(title[: 2**20])[:TITLE_MAX_CHARS]  # collapsing is linear: cap after it
    folded = title.casefold()
    for name in sorted({_flow(n) for n in site_names if n}, key=len, reverse=True):
        if not folded.endswith(name.casefold()) or len(name) >= len(title):
            continue
        head = title[: -len(name)]
        stripped = head.rstrip()
        if not stripped:
            continue
        mark = stripped[-1]
        spaced = head.endswith(" ") and stripped[:-1].endswith(" ")
        if mark in _TIGHT_SEPARATORS or (mark in _SPACED_SEPARATORS and spaced):
            rest = stripped[:-1].rstrip()
            if rest:
                return rest
    return title


def _site_names(metas: dict[str, str], ld: dict[str, object], headline: str, tag: str) -> set[str]:
    """Names the page gives its site; the part a <title> adds after the headline is one."""
    names = {
        _meta(metas, key) or ""
        for key in ("og:site_name", "application-name", "apple-mobile-web-app-title")
    }
    publisher = ld.get("publisher")
    if isinstance(publisher, dict):
        names.add(_string(publisher.get("name")) or "")
    headline, tag = _flow(headline[:TITLE_MAX_CHARS]), _flow(tag[: TITLE_MAX_CHARS * 2])
    if headline and len(tag) > len(headline) and tag.startswith(headline):
        names.add(tag[len(headline) :].lstrip(" " + _TIGHT_SEPARATORS + _SPACED_SEPARATORS))
    return {name for name in names if 0 < len(name) <= 60}


def _metas(tree: LexborHTMLParser) -> dict[str, str]:
    """Every <meta> with content, keyed by its property/name/itemprop/http-equiv
    (lower case); the first of a name wins."""
    found: dict[str, str] = {}
    for node in tree.css("meta[content]"):
        attrs = node.attributes
        content = (attrs.get("content") or "").strip()
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = attrs.get(attr)
            if key:
                found.setdefault(key.lower(), content)
    return found


LD_BODY_MIN = 300  # characters of a JSON-LD articleBody worth preferring


def _meta(metas: dict[str, str], *names: str) -> str | None:
    return next((metas[n.lower()] for n in names if n.lower() in metas), None)


def _json_ld(tree: LexborHTMLParser) -> dict[str, object]:
    for node in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(node.text(deep=True) or "")
        except (ValueError, RecursionError):
            continue
        items = data.get("@graph", [data]) if isinstance(data, dict) else data
        if not isinstance(items, list):  # null, a number, a string: no metadata here
            continue
        for item in items:
            if isinstance(item, dict) and "Article" in str(item.get("@type", "")):
                return item
    return {}


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _authors(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _authors(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in _authors(item)]
    return []


def _is_chrome(attrs: dict[str, str | None]) -> bool:
    """Navigation, ads, share bars and the like, by an element's class, id and role."""
    if attrs.get("itemprop") == "articleBody":
        return False
    marker = f"{attrs.get('class') or ''} {attrs.get('id') or ''} {attrs.get('role') or ''}"
    folded = marker.casefold()
    if any(word in folded for word in _CONTENT_WORDS) and CONTENT.search(marker):
        return False
    for name in folded.replace("_", " ").split():
        parts = name.split("-")
        if not CHROME.isdisjoint(parts):
            return True
        # the names with a hyphen of their own: side-bar, more-news
        if any(f"{a}-{b}" in CHROME for a, b in pairwise(parts)):
            return True
    return False


# A class or id that CONTENT matches holds one of these (it is checked first: cheaper).
_CONTENT_WORDS = ("article", "story", "post", "entry")


_COMMENTS = 2  # an element's kind: 0 content, 1 chrome, 2 comments


def _is_comments(attrs: dict[str, str | None]) -> bool:
    """A readers' comment section, by the names blog and comment software give it."""
    names = f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower().split()
    return not COMMENTS.isdisjoint(names)


def _link_density(node: LexborNode, text_len: int) -> float:
    if not text_len:
        return 1.0
    linked = sum(len(a.text(deep=True) or "") for a in node.css("a"))
    return linked / text_len


def extract(html: str, utf8: bytes | None = None) -> Extracted:
    """HTML -> Extracted. Never raises on malformed HTML; an empty body means nothing found.
    ``utf8``: the same HTML as UTF-8 bytes, when the caller has them."""
    # Encoded once, for the depth cap and the parser alike ("ignore" drops a lone
    # surrogate, as the parser does with a str). Scripts and styles reach the parser
    # empty (JSON-LD but): their text is never the story's, and it is half a page's bytes.
    markup = utf8 if utf8 is not None else html.encode("utf-8", "ignore")
    tree = LexborHTMLParser(trim_markup(markup, MAX_DEPTH))
    metas = _metas(tree)
    out = Extracted()
    ld = _json_ld(tree)
    html_node = tree.css_first("html")
    out.lang_hint = (
        (html_node.attributes.get("lang") if html_node is not None else None)
        or _meta(metas, "og:locale", "content-language", "language")
        or None
    )
    for key, value in (
        (
            "meta",
            _meta(
                metas,
                "article:published_time",
                "datePublished",
                "pubdate",
                "publishdate",
                "og:published_time",
                "date",
                "dc.date",
                "DC.date.issued",
                "sailthru.date",
                "parsely-pub-date",
            ),
        ),
        ("json_ld", _string(ld.get("datePublished"))),
    ):
        if value:
            out.dates[key] = value
    time_node = tree.css_first("time[datetime]")
    if time_node is not None and (value := time_node.attributes.get("datetime")):
        out.dates.setdefault("time_tag", value)
    authors = [a for a in _authors(ld.get("author")) if not is_outlet(a)]
    meta_author = _meta(metas, "author", "article:author", "byl", "dc.creator")
    meta_authors = [meta_author] if meta_author and not is_outlet(meta_author) else []
    h1, title_tag = tree.css_first("h1"), tree.css_first("title")
    tag_text = (title_tag.text(deep=True) or "") if title_tag is not None else ""
    headline = _meta(metas, "og:title", "twitter:title", "headline") or (
        (h1.text(deep=True) or "") if h1 is not None else ""
    )
    out.title = clean_title(headline or tag_text, _site_names(metas, ld, headline or "", tag_text))

    body = tree.body
    if body is None:
        out.byline = authors or meta_authors
        return out
    # One query for all of them; the last first, so that an element inside another
    # (a <script> in a <nav>) goes before the one that holds it, never after it.
    for node in reversed(body.css(_DROP)):
        node.decompose()
    # What the page prints for its readers: its date line and its credits.
    printed = body.text(deep=True, separator="\n")
    total = len(body.text(deep=True) or "")
    # Forms are search boxes, logins and comment boxes, except on sites that wrap the
    # whole page in one (ASP.NET pages do): a form with a large share of the text stays.
    for node in body.css("form"):
        if len(node.text(deep=True) or "") < 0.25 * total:
            node.decompose()
    judged: dict[tuple[str | None, ...], int] = {}  # a page repeats its class names
    for node in body.css("div, section, ul, ol, table, span, p"):
        # A wrapper whose class merely mentions "ads" or "sidebar" may hold the whole
        # page: chrome is small, so a block with a large share of the text stays. A
        # comment section goes whatever its size (readers may paste whole articles).
        attrs = node.attributes  # built anew on each access: read once
        if not attrs:
            continue
        names = (attrs.get("class"), attrs.get("id"), attrs.get("role"), attrs.get("itemprop"))
        kind = judged.get(names)
        if kind is None:
            kind = judged[names] = _COMMENTS if _is_comments(attrs) else int(_is_chrome(attrs))
        if kind == _COMMENTS or (kind and len(node.text(deep=True) or "") < 0.25 * total):
            node.decompose()
    out.body = _best_body(body)
    # A page drawn by scripts may print little of its story (an author's bio) and carry
    # the whole of it in its JSON-LD: take that when it is much longer.
    ld_body = _string(ld.get("articleBody"))
    if ld_body and len(ld_body) >= LD_BODY_MIN and len(ld_body) > 2 * len(out.body):
        out.body = "\n".join(line.strip() for line in ld_body.splitlines() if line.strip())
    if day := visible_date(printed, _end_of(out.body, printed)):
        out.dates.setdefault("visible", day)
    out.byline = authors or visible_byline(printed, out.body) or meta_authors
    return out


def _end_of(body: str, printed: str) -> int | None:
    """Where the story's last line ends in the page's printed text, if it can be found."""
    last = body.rstrip().rsplit("\n", 1)[-1].strip()[:24]
    at = printed.rfind(last) if len(last) >= 8 else -1
    return at + len(last) if at >= 0 else None


def _best_body(body: LexborNode) -> str:
    scores: dict[int, float] = {}
    direct: dict[int, float] = {}  # the part of a score from the node's own paragraphs
    nodes: dict[int, LexborNode] = {}
    own_lines: dict[int, list[str]] = {}  # each text container's lines, read once
    read: dict[int, tuple[str, float | None]] = {}  # each <p>'s text and link density
    blocks = body.css("p, " + ", ".join(TEXT_CONTAINERS))
    for block in blocks:
        if block.tag == "p":
            text = _clean_space(block.text(deep=True) or "")
        else:
            own_lines[block.mem_id] = lines = _own_paragraphs(block)
            text = " ".join(lines)
        weight = _weight(text)
        density = None if weight < 20 else _link_density(block, len(text))
        if block.tag == "p":
            read[block.mem_id] = text, density
        if density is None or density > 0.5:
            continue
        grandparent = block.parent.parent if block.parent is not None else None
        for parent, share in ((block.parent, 1.0), (grandparent, 0.5)):
            if parent is None:
                continue
            key = parent.mem_id
            nodes[key] = parent
            scores[key] = scores.get(key, 0.0) + weight * share
            if share == 1.0:
                direct[key] = direct.get(key, 0.0) + weight
    if not scores:
        return _clean_space(body.text(deep=True, separator="\n") or "")
    best_key = max(scores, key=lambda k: scores[k])
    best = nodes[best_key]
    # A story that starts with paragraphs of its own and goes on in a wrapper inside
    # the same container ("read more" blocks): the container is the story.
    parent = best.parent
    if parent is not None and direct.get(parent.mem_id, 0.0) >= PARENT_SHARE * scores[best_key]:
        best_key, best = parent.mem_id, parent
    # Stories split over sibling containers (one per section or ad break): siblings of
    # the best container that scored well themselves belong to the article too.
    chosen = {best_key}
    if best.parent is not None:
        threshold = 0.25 * scores[best_key]
        chosen.update(
            n.mem_id for n in best.parent.iter() if scores.get(n.mem_id, 0.0) >= threshold
        )
    # Stories cut up by ad slots or "companion" wrappers repeat one container (same tag,
    # same class) down the page: every such container that holds paragraphs belongs too.
    css_class = best.attributes.get("class")
    if css_class:
        chosen.update(
            key
            for key, node in nodes.items()
            if node.tag == best.tag and node.attributes.get("class") == css_class
        )
    # In document order (scores were first given in paragraph order), none inside another.
    containers = [nodes[key] for key in scores if key in chosen and not _inside(nodes[key], chosen)]
    paragraphs: list[str] = []
    seen: set[str] = set()  # a page may carry its story twice (a hidden or print copy)
    for container in containers:
        inner = container.css(", ".join(BLOCK_TAGS + TEXT_CONTAINERS))
        if container.tag in TEXT_CONTAINERS or not inner:
            inner = [container, *inner]
        for node in inner:
            if node.tag in TEXT_CONTAINERS:
                known = own_lines.get(node.mem_id)
                own = known if known is not None else _own_paragraphs(node)
                # No lines: layout, or a label between paragraphs.
                for text in own:
                    if text not in seen:
                        seen.add(text)
                        paragraphs.append(text)
                continue
            if node.mem_id in read:  # a <p> the scoring has read
                text, density = read[node.mem_id]
            else:
                text, density = _clean_space(node.text(deep=True) or ""), None
            if density is None:
                density = _link_density(node, len(text))
            # A list item that is mostly a link is a list of stories; a paragraph that is
            # mostly links is one too (on quirks-mode pages an unclosed <p> holds the
            # related-stories table after it).
            if density > (0.3 if node.tag == "li" else 0.5):
                continue
            if text and text not in seen:
                seen.add(text)
                paragraphs.append(text)
    if not paragraphs or _weight("".join(paragraphs)) < 0.5 * scores[best_key]:
        paragraphs = [
            _clean_space(line)
            for line in (best.text(deep=True, separator="\n") or "").split("\n")
            if _clean_space(line)
        ]
    return "\n".join(paragraphs)


def _inside(node: LexborNode, keys: set[int]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id in keys:
            return True
        parent = parent.parent
    return False


def _own_paragraphs(node: LexborNode) -> list[str]:
    """The lines of text a container holds itself: its text and its inline children's
    (links, bold, …), split at ``<br>`` and at child blocks, whose text is theirs. Lines
    that are mostly link text (a list of headlines) are left out. A ``<span>`` counts
    only as a block of lines (two or more, split by ``<br>``, and not within a
    paragraph); any other span is part of the line around it. Fewer than 20 weighted
    characters outside links is no paragraph (a label, a date under a comment)."""
    if node.tag == "span":
        parent = node.parent
        if (parent is not None and parent.tag in BLOCK_TAGS) or node.css_first("br") is None:
            return []
    elif not (node.text(deep=False) or "").strip():
        return []  # no text of its own: a wrapper (inline-only text is rare and short)
    lines: list[str] = []
    current: list[str] = []
    linked = 0
    unlinked = 0  # weight of the kept lines outside links

    def end_line() -> None:
        nonlocal unlinked
        line = _flow("".join(current))
        weight = _weight(line)
        if line and linked <= LINE_LINK_SHARE * weight:
            lines.append(line)
            unlinked += weight - linked

    child = node.child
    while child is not None:
        tag = child.tag
        if tag == "-text":
            current.append(child.text_content or "")
        elif tag in INLINE_TAGS and not (tag == "span" and child.css_first("br") is not None):
            text = child.text(deep=True) or ""
            current.append(text)
            if tag == "a":
                linked += _weight(text.strip())
        elif tag != "-comment":  # <br> or a block: the line ends
            end_line()
            current, linked = [], 0
        child = child.next
    end_line()
    if unlinked < 20 or (node.tag == "span" and len(lines) < 2):
        return []  # a label, a date, a name: not prose
    return lines
