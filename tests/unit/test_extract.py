"""Body extraction on page layouts that news sites use: each test page is a small
synthetic layout with paragraphs of its own, and the body must be exactly the story."""

from __future__ import annotations

import pytest

from pipelines.extract import TITLE_MAX_CHARS, extract

STORY = [
    "The river rose two metres overnight and the old bridge was closed before dawn.",
    "Engineers said the supports had held but that the road surface needed checking.",
    "Residents on the east bank were asked to move cars away from the water front.",
    "The council expects to reopen the bridge on Friday if the level keeps falling.",
]
NAV = "<nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/sport'>Sport</a></nav>"
RELATED = (
    "<div class='related-links'><p><a href='/a'>Another story about rivers and weather</a></p>"
    "<p><a href='/b'>A second story about bridges and roads</a></p></div>"
)


PARAGRAPHS = "".join(f"<p>{text}</p>" for text in STORY)


def page(article: str) -> str:
    return f"<html><head><title>Bridge closed</title></head><body>{NAV}{article}{RELATED}</body></html>"


def assert_story(html: str) -> None:
    assert extract(html).body.split("\n") == STORY


def test_a_page_wrapped_in_one_form_keeps_its_story() -> None:
    html = page(
        f"<form method='post' id='aspnetForm'><div class='story'>{PARAGRAPHS}</div>"
        "<form class='search'><input name='q'></form></form>"
    )
    assert_story(html)


def test_a_chrome_word_in_a_class_does_not_drop_the_article_body() -> None:
    # The story is under a quarter of the page's text: the rest is lists of links.
    links = "".join(
        f"<li><a href='/{n}'>Headline of another story, number {n}</a></li>" for n in range(40)
    )
    html = page(
        f"<div class='l-sidebar-fixed l-article-body-segment'>{PARAGRAPHS}</div>"
        f"<ul class='archive'>{links}</ul>"
    )
    assert_story(html)


def test_paragraphs_written_as_divs_are_kept() -> None:
    first, *rest = STORY
    divs = "".join(f"<div class='body__paragraph'>{text}</div>" for text in rest)
    html = page(f"<section class='body'><p>{first}</p>{divs}</section>")
    assert_story(html)


def test_a_story_split_over_repeated_wrappers_is_joined() -> None:
    parts = "".join(
        f"<div class='companion'><div class='text-block'><p>{text}</p></div></div>"
        f"<div class='ad-slot'><p>Advertisement</p></div>"
        for text in STORY
    )
    html = page(f"<article><section class='metered'>{parts}</section></article>")
    assert_story(html)


def test_a_consent_banner_is_not_the_story() -> None:
    notice = (
        "We use cookies and similar technologies to measure traffic and show content, "
        "and by continuing to browse you agree to their use as our policy describes."
    )
    # The story is mostly a table (a results page): its one paragraph is shorter than
    # the banner, which a class naming consent or privacy marks as chrome.
    rows = "".join(
        f"<tr><td>Gauge {n}</td><td>{n * 7} cm</td><td>rising</td></tr>" for n in range(60)
    )
    html = page(
        f"<div class='m-privacy-consent'><div class='inner'><p>{notice}</p><p>{notice}</p></div></div>"
        f"<div class='story'><p>{STORY[0]}</p><table>{rows}</table></div>"
    )
    assert extract(html).body.split("\n")[0] == STORY[0]


def test_a_story_printed_twice_on_the_page_comes_out_once() -> None:
    html = page(
        f"<div class='story-part'>{PARAGRAPHS}</div><div class='story-part'>{PARAGRAPHS}</div>"
    )
    assert_story(html)


def test_a_story_written_between_line_breaks_in_a_span_is_kept_with_its_links() -> None:
    first, second, *rest = STORY
    linked = second.replace("the supports", "<a href='/supports'>the supports</a>")
    lines = "<br><br>".join([first, linked, *rest])
    html = page(
        f"<div class='content'><h1>Bridge closed</h1><div class='meta'>By a reporter</div>"
        f"<span>{lines}</span></div>"
    )
    assert_story(html)


def test_lines_that_are_mostly_links_or_fine_print_stay_out_of_a_story_in_lines() -> None:
    lines = "<br><br>".join(STORY)
    related = "".join(
        f"<div>·<a href='/{n}'>Flood warnings for the valley towns, part {n}</a> (2024-05-0{n})</div>"
        for n in range(1, 5)
    )
    html = page(
        f"<div class='story'><small>05/10/2024 - Category: <a href='/c'>Weather</a></small>"
        f"<br><br>{lines}</div><div class='more'>{related}</div>"
    )
    assert_story(html)


def test_a_line_with_a_link_in_it_is_one_line() -> None:
    text = (
        "Officials said <a href='/report'>the report</a> would be published "
        "<b>next week</b> after the inspection of the supports."
    )
    html = page(f"<div class='story'><p>{STORY[0]}</p><div>{text}</div></div>")
    assert extract(html).body.split("\n") == [
        STORY[0],
        "Officials said the report would be published next week after the inspection of the supports.",
    ]


def test_source_line_breaks_in_a_line_of_text_are_laid_out_as_a_browser_would() -> None:
    html = page(
        "<div class='story'>"
        f"<div>{STORY[0][:30]}\n      {STORY[0][30:]}<br>{STORY[1]}</div>"
        "<div>北京市政府昨日宣布，\n    城区的<b>橋梁</b>將於週五\n重新開放，並加強巡查。</div></div>"
    )
    assert extract(html).body.split("\n") == [
        STORY[0][:30].rstrip() + " " + STORY[0][30:].lstrip(),
        STORY[1],
        "北京市政府昨日宣布，城区的橋梁將於週五重新開放，並加強巡查。",
    ]


def test_a_paragraph_that_is_mostly_links_is_a_list_of_stories() -> None:
    # No doctype: quirks mode, where an unclosed <p> takes in the table after it.
    related = "".join(
        f"·<a href='/{n}'>Flood warnings for the valley towns, part {n}</a><br>"
        for n in range(1, 6)
    )
    unclosed = "".join(f"<p>{text}" for text in STORY)
    html = (
        "<html><head><title>Bridge closed</title></head><body><table><tr><td>"
        f"{unclosed}<p><table><tr><td>Related: {related}</td></tr></table>"
        "</td></tr></table></body></html>"
    )
    assert_story(html)


def test_a_comment_section_is_not_the_story_even_when_it_is_longer() -> None:
    pasted = "".join(
        f"<p>A reader pasted another article here, paragraph {n} of it.</p>" for n in range(12)
    )
    html = page(
        f"<div class='post'>{PARAGRAPHS}</div><h3 id='comments'>2 comments</h3>"
        f"<ol class='commentlist'><li id='comment-1'><cite>reader</cite>{pasted}</li></ol>"
        f"<div id='disqus_thread'><p>{pasted}</p></div>"
    )
    assert_story(html)


def test_photo_galleries_and_captions_in_the_story_are_left_out() -> None:
    caption = "Water covers the road near the old bridge on Tuesday morning. Photo: A. Reporter"
    html = page(
        "<div class='story'>"
        f"<div class='photo-gallery'><ul><li><img src='a.jpg'><div class='caption'>{caption}</div>"
        f"</li></ul></div>{PARAGRAPHS}<div class='image-caption'>{caption}</div></div>"
    )
    assert_story(html)


def test_a_story_that_goes_on_in_a_wrapper_inside_its_container_is_whole() -> None:
    more = [
        "Traffic was sent over the northern crossing, which added half an hour to trips.",
        "Shops near the bridge said business had dropped since the closure on Monday.",
        "A temporary footbridge could be in place by the weekend, the engineers said.",
        "The river authority will publish new level readings every six hours until then.",
        "Schools on the east bank stayed open, with buses running on the longer route.",
    ]
    # Two paragraphs before the wrapper, seven in it: the wrapper alone scores highest.
    first = "".join(f"<div class='paragraph'>{text}</div>" for text in STORY[:2])
    rest = "".join(f"<div class='paragraph'>{text}</div>" for text in STORY[2:] + more)
    html = page(f"<section class='body'>{first}<div class='read-all'>{rest}</div></section>")
    assert extract(html).body.split("\n") == STORY + more


# ------------------------------------------------------------------ headlines
def _headline_page(head: str, h1: str = "") -> str:
    return f"<html><head>{head}</head><body><h1>{h1}</h1><div>{PARAGRAPHS}</div></body></html>"


@pytest.mark.parametrize(
    ("head", "title"),
    [
        # a hyphen inside the headline is part of it, in og:title and in <title> alike
        (
            '<meta property="og:title" content="Xi-Putin summit ends in Moscow">',
            "Xi-Putin summit ends in Moscow",
        ),
        ("<title>Royal Self-Indicting Arrogance</title>", "Royal Self-Indicting Arrogance"),
        ("<title>Talks - a new phase</title>", "Talks - a new phase"),  # no site name declared
        # the site's own name goes, after a separator
        (
            '<meta property="og:site_name" content="Sample Times"><title>Xi-Putin talks - Sample Times</title>',
            "Xi-Putin talks",
        ),
        (
            '<meta property="og:title" content="Grain talks resume | Sample Times">'
            '<meta property="og:site_name" content="Sample Times">',
            "Grain talks resume",
        ),
        (
            '<meta name="application-name" content="新华网"><title>习近平会见普京_新华网</title>',
            "习近平会见普京",
        ),
        (
            '<meta property="og:site_name" content="中央社 CNA"><title>習近平會見蒲亭｜中央社 CNA</title>',
            "習近平會見蒲亭",
        ),
        # ... but never the whole headline, and never without a separator
        (
            '<meta property="og:site_name" content="Moscow"><title>Summit ends in Moscow</title>',
            "Summit ends in Moscow",
        ),
    ],
)
def test_only_a_declared_site_name_is_cut_from_a_headline(head: str, title: str) -> None:
    assert extract(_headline_page(head)).title == title


def test_the_title_tag_names_the_site_that_an_h1_headline_lacks() -> None:
    html = _headline_page(
        "<title>Bridge closed - Sample Times</title>", h1="Bridge closed - Sample Times"
    )
    assert extract(html).title == "Bridge closed - Sample Times"  # the same text: no name learnt
    html = _headline_page(
        '<meta property="og:title" content="Bridge closed - Sample Times">'
        "<title>Bridge closed - Sample Times</title>",
        h1="Bridge closed",
    )
    assert extract(html).title == "Bridge closed - Sample Times"  # og:title is the headline
    html = _headline_page("<title>Bridge closed | Sample Times</title>", h1="Bridge closed")
    assert extract(html).title == "Bridge closed"


@pytest.mark.timeout(10)
def test_a_headline_of_line_breaks_is_one_short_line() -> None:
    """Was quadratic: 40,000 line breaks inside og:title took about a minute, 10,000 two seconds."""
    breaks = " \n" * 30_000
    html = _headline_page(f'<meta property="og:title" content="Storm{breaks}warning">')
    assert extract(html).title == "Storm warning"
    long = "word " * 1_000
    assert len(extract(_headline_page(f"<title>{long}</title>")).title) <= TITLE_MAX_CHARS


def test_a_page_drawn_by_scripts_takes_its_story_from_json_ld() -> None:
    """The page prints only its author's bio; the story is in the JSON-LD (as on
    scmp.com), so that is the body. A short JSON-LD summary never replaces a printed
    story."""
    import json

    story = " ".join(
        f"Paragraph {n} of the opinion piece on the election result." for n in range(12)
    )
    bio = "The author fell into politics aged 12 and has written for the paper since 2008."
    ld = json.dumps({"@type": "OpinionNewsArticle", "headline": "A playbook", "articleBody": story})
    page = f'<html><head><script type="application/ld+json">{ld}</script></head><body><div class="author"><p>{bio}</p></div></body></html>'  # fmt: skip
    assert extract(page).body == story
    summary = json.dumps(
        {"@type": "NewsArticle", "articleBody": "A two-line summary of the story, short."}
    )
    printed = "<p>" + "</p><p>".join(f"Sentence {n} of a story printed in full on the page." for n in range(10)) + "</p>"  # fmt: skip
    page = f'<html><head><script type="application/ld+json">{summary}</script></head><body><article>{printed}</article></body></html>'  # fmt: skip
    assert extract(page).body.startswith("Sentence 0")


def test_elements_dropped_inside_other_dropped_elements_go_with_them() -> None:
    # scripts inside a nav inside a footer, an svg's style, a caption in a figure
    chrome = (
        "<footer><nav><script>var a = 1;</script><a href='/'>Home</a>"
        "<svg><style>.x{}</style></svg></nav><script>var b = 2;</script></footer>"
    )
    html = page(
        f"<header><nav><script>track()</script></nav></header><article>{PARAGRAPHS}"
        "<figure><img src='a.jpg'><figcaption>The bridge at dawn, closed.</figcaption></figure>"
        f"</article>{chrome}"
    )
    assert_story(html)


@pytest.mark.parametrize(
    "css_class",
    ["right-side-bar", "more-news", "share_bar", "top-NAV", "ad", "hot-news list"],
)
def test_a_chrome_word_is_matched_whole_in_a_class(css_class: str) -> None:
    # the same block under a class with no chrome word in it is part of the story
    aside = "Readers also liked a long piece about the weather in the hills and the valleys."
    html = page(f"<div class='story'>{PARAGRAPHS}</div><div class='{css_class}'>{aside}</div>")
    assert_story(html)
    assert aside in extract(html.replace(f"class='{css_class}'", "class='plain'")).body


def test_a_word_that_only_contains_a_chrome_word_is_not_chrome() -> None:
    from pipelines.extract import _is_chrome

    for name in ("navigation", "download", "headline", "sidebarred", "side-barn", "adsense"):
        assert not _is_chrome({"class": name}), name
    assert _is_chrome({"id": "x_side-bar"})
    assert not _is_chrome({"class": "related article-body"})  # the story's own text
