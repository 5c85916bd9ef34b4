"""The native segmentation answers what the plain computation over its tokens gives.

``mediamon_native.Segmentation`` turns one jieba-rs pass straight into counts, edges
and name tokens. Each answer is checked here against the obvious Python over
``Segmenter.tag`` (every token with its tag) on the fixtures and on generated text that
mixes scripts, whitespace, punctuation, digits and characters outside the BMP.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from itertools import accumulate

import numpy as np
import pytest

from pipelines.segment import Segmented, Segmenter
from tests.conftest import DATA

NAME_TAGS = ("nr", "nrt", "nrfg", "ns", "nt")
USER_WORDS = ["习近平", "普丁", "泽伦斯基", "上海合作组织"]
ALPHABET = [
    *"习近平普丁泽伦斯基与在会谈王小明说北京大学乌克兰俄罗斯上海合作组织的了是",
    *"abc XYZ 123 .,;!?，。、「」（）\n\t　",
    "𠮷",
    "😀",
    "é",
]


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter(USER_WORDS)


def texts() -> list[str]:
    rng = random.Random(7)
    generated = [
        "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 80))) for _ in range(300)
    ]
    fixtures = [
        path.read_text(encoding="utf-8", errors="replace")[:4000]
        for path in sorted(DATA.glob("*/input.txt"))
    ]
    return ["", " ", "。", "习近平与普丁在撒马尔罕会谈。", *fixtures, *generated]


def plain(pairs: list[tuple[str, str]], head_end: int) -> dict[str, object]:
    """Everything the pipeline reads, computed the slow way from (word, tag) pairs."""
    ends = list(accumulate(len(word) for word, _ in pairs))
    starts = [end - len(word) for (word, _), end in zip(pairs, ends, strict=True)]
    content = [(w, s, e) for (w, t), s, e in zip(pairs, starts, ends, strict=True) if t != "x"]
    counts = Counter(w for w, _, _ in content)
    story = Counter(w for w, _, e in content if e > head_end)
    edges = bytearray((ends[-1] if ends else 0) + 1)
    for offset in [0, *ends]:
        edges[offset] = 1
    return {
        "word_count": len(content),
        "text_tokens": " ".join(w for w, _, _ in content),
        "keys": list(counts),
        "tf": [counts[k] for k in counts],
        "story": [story[k] for k in counts],
        "edges": bytes(edges),
        "names": [
            (i, w, t, s, e)
            for i, ((w, t), s, e) in enumerate(zip(pairs, starts, ends, strict=True))
            if t in NAME_TAGS
        ],
        "tokens": content,
    }


def native(seg: Segmented, head_end: int) -> dict[str, object]:
    keys, tf, story = seg.counts(head_end)
    return {
        "word_count": seg.word_count,
        "text_tokens": seg.text_tokens(),
        "keys": keys,
        "tf": np.frombuffer(tf).tolist(),
        "story": np.frombuffer(story).tolist(),
        "edges": seg.edges(),
        "names": seg.names(),
        "tokens": seg.tokens(),
    }


def test_every_answer_matches_the_plain_computation(segmenter: Segmenter) -> None:
    rng = random.Random(11)
    for text in texts():
        pairs = segmenter.tag(text)
        assert "".join(w for w, _ in pairs) == text  # tokens tile the text
        seg = segmenter.segment(text)
        assert len(seg) == len(pairs)
        head_end = rng.randint(0, len(text) + 1)
        assert native(seg, head_end) == plain(pairs, head_end), text
        # piece(i): the word, its tag when the tag is "x", n, f, ng or a name tag, its offsets
        for i, (word, tag) in enumerate(pairs):
            got = seg.piece(i)
            assert got is not None
            assert got[0] == word
            assert got[1] == (tag if tag in ("x", "n", "f", "ng", *NAME_TAGS) else "")
            assert text[got[2] : got[3]] == word
        assert seg.piece(len(pairs)) is None


def test_a_segmentation_built_from_pairs_answers_like_a_segmented_text(
    segmenter: Segmenter,
) -> None:
    for text in texts()[:60]:
        pairs = segmenter.tag(text)
        assert native(Segmented.from_pairs(pairs), 3) == native(segmenter.segment(text), 3)


def test_user_words_stay_whole_and_cut_matches_tag(segmenter: Segmenter) -> None:
    text = "习近平与普丁及泽伦斯基出席上海合作组织峰会"
    assert [w for w, _ in segmenter.tag(text)] == segmenter.cut(text)
    assert {"习近平", "普丁", "泽伦斯基", "上海合作组织"} <= set(segmenter.cut(text))
    assert "泽伦斯基" not in Segmenter().cut(text)  # the user dictionary does it
    assert segmenter.words(f" {text}。") == [t.text for t in segmenter.tokens(text)]


def test_offsets_count_characters_not_bytes(segmenter: Segmenter) -> None:
    text = "𠮷😀 普丁說"
    tokens = segmenter.tokens(text)
    assert [text[t.start : t.end] for t in tokens] == [t.text for t in tokens]
    assert len(segmenter.segment(text).edges()) == len(text) + 1


def test_text_that_is_not_valid_unicode_is_refused(segmenter: Segmenter) -> None:
    with pytest.raises(UnicodeEncodeError):
        segmenter.segment("普丁\ud800")


def test_a_word_seen_before_comes_back_as_the_same_string() -> None:
    segmenter = Segmenter(USER_WORDS, word_table=4)
    first, _, _ = segmenter.segment("普丁说").counts(0)
    again, _, _ = segmenter.segment("他说普丁").counts(0)
    assert again == ["他", "说", "普丁"]
    assert again[2] is first[0] and again[1] is first[1]
    # the table starts over when full: new strings, equal words
    segmenter.segment("甲乙丙丁戊己庚辛").counts(0)
    later, _, _ = segmenter.segment("普丁").counts(0)
    assert later == ["普丁"] and later[0] is not first[0]
    unkept, _, _ = Segmenter(word_table=0).segment("普丁").counts(0)
    assert unkept == [first[0]]


# ------------------------------------------------------------------ the HTML nesting cap
# The plain computation of native/src/markup.rs's rule, in Python (it was the first
# implementation; too slow for every page: 1.6 ms of extraction's 3.8).
_MARKUP = re.compile(r"<!--|<(/?)([A-Za-z][A-Za-z0-9:-]*)")
_TAG_REST = re.compile(r"[^<>]*>?")
VOID_TAGS = frozenset(
    "area base br col embed hr img input link meta source track wbr param keygen basefont "
    "bgsound frame command".split()
)
# Elements whose end tag may be left out: they do not nest in practice, and counting them
# would make a page of unclosed <p>s look deep.
OPTIONAL_END_TAGS = frozenset(
    "p li dt dd tr td th thead tbody tfoot colgroup caption option optgroup rb rt rtc rp "
    "html head body".split()
)
RAW_TEXT_TAGS = frozenset(
    "script style textarea title xmp iframe noembed noframes noscript plaintext".split()
)
FOREIGN_TAGS = frozenset({"svg", "math"})


def plain_cap_depth(html: str, limit: int, *, empty_code: bool = False) -> str:
    """``html`` with every start and end tag nested deeper than ``limit`` removed (their
    text stays), and with ``empty_code`` the content of each script (but JSON-LD) and
    style element. Linear in the length; a page with nothing to cut comes back as it was."""
    cuts = _cuts(html, limit, empty_code)
    if not cuts:
        return html
    parts, last = [], 0
    for start, end in cuts:
        parts.append(html[last:start])
        last = end
    parts.append(html[last:])
    return "".join(parts)


def _cuts(html: str, limit: int, empty_code: bool) -> list[tuple[int, int]]:
    """(start, end) of each tag past ``limit``, counting nesting as the tree builder
    would for well-formed markup: comments and raw text (script, style, …) skipped, void
    and optional-end elements not counted, ``/>`` closing only inside SVG and MathML;
    with ``empty_code``, also the content of each script (but JSON-LD) and style."""
    cuts: list[tuple[int, int]] = []
    depth = foreign = position = 0
    while (match := _MARKUP.search(html, position)) is not None:
        if match.group(0) == "<!--":
            end = html.find("-->", match.end())
            if end < 0:
                break
            position = end + 3
            continue
        closing, name = match.group(1), match.group(2).lower()
        rest = _TAG_REST.match(html, match.end())
        end = rest.end() if rest else match.end()
        position = end
        if name in VOID_TAGS or name in OPTIONAL_END_TAGS:
            continue
        if closing:
            if depth > limit:
                cuts.append((match.start(), end))
            depth = max(0, depth - 1)
            if name in FOREIGN_TAGS:
                foreign = max(0, foreign - 1)
            continue
        if foreign and html.endswith("/>", match.start(), end):
            continue
        depth += 1
        if depth > limit:
            cuts.append((match.start(), end))
        if name in FOREIGN_TAGS:
            foreign += 1
        elif name in RAW_TEXT_TAGS:
            close = re.compile(rf"</{name}(?![A-Za-z0-9:-])", re.IGNORECASE).search(html, end)
            if close is None:
                break
            code = name == "style" or (
                name == "script" and "ld+json" not in html[match.start() : end].lower()
            )
            if empty_code and code and close.start() > end:
                cuts.append((end, close.start()))
            position = close.start()
    return cuts


MARKUP_PIECES = [
    "<div>",
    "</div>",
    "<DIV class='a>b'>",
    "<span>",
    "</span>",
    "<p>",
    "</p>",
    "<br>",
    "<br/>",
    "<img src=x>",
    "<li>",
    "<td>",
    "<b>",
    "</b>",
    "<svg>",
    "</svg>",
    "<path d='M0'/>",
    "<div/>",
    "<math>",
    "</math>",
    "<script>",
    "</script>",
    "<script>if (a<b) { x = '<div>' }</script>",
    "<style>p{}</style>",
    '<script type=\'application/ld+json\'>{"a": "<p>"}</script>',
    "<Script TYPE=APPLICATION/LD+JSON>",
    "<STYLE media=x>",
    "</STYLE>",
    "<!-- <div> -->",
    "<!--",
    "-->",
    "<a",
    "<a href='/x'>",
    "</a>",
    "<",
    ">",
    "</",
    "<1>",
    "</script-x>",
    "<textarea><div></textarea>",
    "<my-element:x>",
    "</my-element:x>",
    "習近平",
    "普丁",
    "text ",
    "𠮷",
    "😀",
    "&lt;",
    "\n",
]


def markup_texts() -> list[str]:
    rng = random.Random(11)
    pages = [
        (DATA / case / "input.html").read_text(encoding="utf-8", errors="replace")
        for case in ("en-page",)
    ]
    pages += [
        "".join(rng.choice(MARKUP_PIECES) for _ in range(rng.randint(0, 120))) for _ in range(400)
    ]
    return pages


@pytest.mark.parametrize("limit", [0, 1, 2, 3, 5, 256])
def test_cap_depth_cuts_what_the_plain_rule_cuts(limit: int) -> None:
    from mediamon_native import cap_depth

    for html in markup_texts():
        assert cap_depth(html.encode(), limit).decode() == plain_cap_depth(html, limit), html


@pytest.mark.parametrize("limit", [0, 2, 256])
def test_trim_markup_also_empties_what_the_plain_rule_empties(limit: int) -> None:
    from mediamon_native import trim_markup

    for html in markup_texts():
        trimmed = trim_markup(html.encode(), limit).decode()
        assert trimmed == plain_cap_depth(html, limit, empty_code=True), html


def test_trim_markup_keeps_json_ld_titles_and_text_and_empties_code() -> None:
    from mediamon_native import trim_markup

    page = (
        "<html><head><title>普丁 <b></title><style>p { color: red }</style>"
        '<script type="application/ld+json">{"headline": "習近平"}</script>'
        "<script>var a = '</div>'; if (a<b) {}</script></head>"
        "<body><p>基輔會談。</p><SCRIPT src=x.js></SCRIPT><textarea>留言</textarea></body></html>"
    ).encode()
    assert trim_markup(page, 256).decode() == (
        "<html><head><title>普丁 <b></title><style></style>"
        '<script type="application/ld+json">{"headline": "習近平"}</script>'
        "<script></script></head>"
        "<body><p>基輔會談。</p><SCRIPT src=x.js></SCRIPT><textarea>留言</textarea></body></html>"
    )
    plain = b"<html><body><p>no code</p></body></html>"
    assert trim_markup(plain, 256) is plain


def test_cap_depth_hands_back_an_untouched_page_as_is_and_is_linear() -> None:
    from mediamon_native import cap_depth

    page = (DATA / "en-page" / "input.html").read_bytes()
    assert cap_depth(page, 256) is page
    deep = b"<div>" * 100_000 + "<p>基輔會談。</p>".encode() + b"</div>" * 100_000
    capped = cap_depth(deep, 256)
    assert capped == b"<div>" * 256 + "<p>基輔會談。</p>".encode() + b"</div>" * 256
