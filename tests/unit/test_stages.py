"""Stage-level behaviour: clean, dates, entities, keywords, topics, fingerprint."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
import yaml

from pipelines.article import Article, RawArticle, RejectArticle
from pipelines.clean import SourceRules, clean, required_literal
from pipelines.dates import Partial, parse_date, resolve
from pipelines.entities import Catalogue, CatalogueError, other_names
from pipelines.fingerprint import distance, simhash
from pipelines.normalize import converter, normalize, to_simplified
from pipelines.segment import Segmented
from pipelines.topics import RuleError, parse_rule
from workers.config import ConfigError, build_pipeline, config_dir_data
from workers.settings import Settings

NOW = datetime(2024, 1, 15, 12, tzinfo=UTC)
UTC8 = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def pipe():  # type: ignore[no-untyped-def]
    return build_pipeline(Settings().config_dir)


@pytest.fixture(scope="module")
def rules() -> SourceRules:
    return SourceRules(config_dir_data(Settings().config_dir)["sources"])


# ---------------------------------------------------------------- clean
def test_clean_moves_credits_and_drops_boilerplate_in_both_scripts(rules: SourceRules) -> None:
    body = (
        "（中央社記者陳小明台北5日電）行政院今天宣布新的援助方案。（譯者：張三/核稿：李四）"
        "1130105圖為記者會現場。（圖取自示例網站）\n延伸閱讀\n示例標題 示例副題\n"
        "本網站之文字、圖片及影音，非經授權，不得轉載。"
    )
    for text in (body, to_simplified(body)):
        article = clean(Article(url=None, title="", body=text), rules=rules)
        assert article.source == "cna" and article.region == "TW"
        names = ["陳小明", "張三", "李四"]
        assert article.byline == (names if text == body else [to_simplified(n) for n in names])
        assert article.body.endswith(("援助方案。", "援助方案。"))
        assert (
            "延伸" not in article.body and "转载" not in article.body and "轉載" not in article.body
        )
        assert article.date_hints == {"text": "---05", "code": "2024-01-05T12:00:00+08:00"}


def test_a_line_rule_removes_footers_never_sentences_of_news(rules: SourceRules) -> None:
    only = "多家公司未经授权使用员工的生物识别数据，监管部门星期二宣布对其罚款。"
    article = clean(Article(url=None, title="", body=only), rules=rules)
    assert article.body == only  # the article's one paragraph, whatever words it has
    news = (
        "法院裁定该公司侵犯版权，判赔五百万元。\n"
        "判决书指出，被告在未获许可的情况下复制了原告的作品，并声称拥有全部版权所有权，"
        "但未能提出任何证据。法院认为被告的行为构成侵权，应当承担相应的民事责任，"
        "并在其官方网站首页连续三十日刊登致歉声明，以消除影响。被告表示将提出上诉。\n"
        "原告律师表示满意。\n"
        "版权所有 © 示例新闻网，不得转载。"
    )
    article = clean(Article(url=None, title="", body=news), rules=rules)
    assert "被告表示将提出上诉" in article.body  # long: a paragraph of news
    assert article.body.endswith("原告律师表示满意。")  # the short footer went


def test_required_literal_is_conservative() -> None:
    assert required_literal(r"(?i)all rights reserved") == "all rights reserved"
    assert required_literal(r"(?:點擊|點此).{0,8}訂閱") == "訂閱"
    assert required_literal(r"a|b") == ""
    assert required_literal(r"x{0,3}yz") == "yz"


# ---------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022年9月14日", datetime(2022, 9, 14, 12, tzinfo=UTC)),
        ("民國111年9月15日 下午3:20", datetime(2022, 9, 15, 15, 20, tzinfo=UTC)),
        ("111年9月15日", datetime(2022, 9, 15, 12, tzinfo=UTC)),
        ("1110915", datetime(2022, 9, 15, 12, tzinfo=UTC8)),
        ("Wed, 14 Sep 2022 10:00:00 GMT", datetime(2022, 9, 14, 10, tzinfo=UTC)),
        ("Sept. 14, 2022", datetime(2022, 9, 14, tzinfo=UTC)),
        ("2022/09/14 14:30", datetime(2022, 9, 14, 14, 30, tzinfo=UTC)),
        ("2022-09-14T08:00:00+08:00", datetime(2022, 9, 14, tzinfo=UTC)),
    ],
)
def test_parse_date(value: str, expected: datetime) -> None:
    assert parse_date(value) == expected


def test_dateline_day_takes_month_and_year_from_the_code() -> None:
    when, how, _ = resolve(
        {"text": "---14", "code": "2022-09-15T12:00:00+08:00"}, now=NOW, region="TW"
    )
    assert (when, how) == (datetime(2022, 9, 14, 12, tzinfo=UTC8), "text")


def test_a_dateline_without_a_year_takes_it_from_the_address_or_gives_no_date() -> None:
    from pipelines.dates import url_date

    assert resolve({"text": "--11-17"}, now=NOW, region="CN")[:2] == (None, None)
    day = url_date("http://www.news.cn/politics/2023-11/17/c_1129978.htm")
    assert day == "2023-11-17"
    when, how, _ = resolve({"text": "--11-17", "url": day}, now=NOW, region="CN")
    assert (when, how) == (datetime(2023, 11, 17, 12, tzinfo=UTC8), "text")
    assert url_date("https://www.zaobao.com.sg/realtime/china/story20230619-1405976") == (
        "2023-06-19"
    )
    assert url_date("http://cn.chinadaily.com.cn/a/202303/21/WS64.html") == "2023-03-21"
    assert url_date("https://example.com/a/12345678") is None  # not a day
    assert url_date("https://example.com/news/20230230.html") is None


def test_a_page_from_an_older_year_keeps_its_year() -> None:
    from pipelines.article import RawArticle
    from workers.config import build_pipeline

    html = (
        "<html><body><article><p>新华社北京11月17日电 中国外交部发言人今天在例行记者会上"
        "回答了有关问题，表示中方愿同各方加强沟通。</p></article></body></html>"
    )
    pipeline = build_pipeline(Settings().config_dir)
    for url, expected in (
        ("http://www.news.cn/politics/2023-11/17/c_1129978.htm", "2023-11-17"),
        ("https://example.com/politics/c_1129978.htm", None),
    ):
        doc = pipeline.process(RawArticle(url=url, html=html), now=NOW)
        if expected:
            assert doc["published_at"].startswith(expected)
        else:  # no year anywhere: the fetch time, said so, not a day in the wrong year
            assert doc["published_at_source"] == "fetched"


def test_dateline_day_after_today_belongs_to_last_month() -> None:
    partial = parse_date("---28")
    assert isinstance(partial, Partial)
    assert partial.complete(NOW, UTC).date().isoformat() == "2023-12-28"


def test_feed_date_wins_and_region_sets_the_zone() -> None:
    when, how, _ = resolve({"feed": "2023-03-21 09:00", "meta": "2023-03-20"}, now=NOW, region="CN")
    assert how == "feed" and when == datetime(2023, 3, 21, 9, tzinfo=UTC8)


def test_impossible_dates_are_refused_then_the_next_hint_is_used() -> None:
    _, how, notes = resolve({"feed": "2999-01-01", "meta": "2023-05-01T00:00:00Z"}, now=NOW)
    assert how == "meta" and "future" in notes[0]
    with pytest.raises(RejectArticle) as info:
        resolve({"feed": "1246-03-01"}, now=NOW)
    assert info.value.reason == "bad_date" and "before 1990" in info.value.detail


def test_a_placeholder_date_is_no_date_not_a_bad_one() -> None:
    """0001-01-01 (a CMS's empty date in JSON-LD) and the epochs are ignored with a
    note: the next hint is used, or the fetch time; an article is never rejected for
    one."""
    _, how, notes = resolve({"json_ld": "0001-01-01T00:00:00", "meta": "2023-05-01"}, now=NOW)
    assert how == "meta" and "stand-in" in notes[0]
    assert resolve({"json_ld": "0001-01-01T00:00:00"}, now=NOW)[:2] == (None, None)
    assert resolve({"feed": "1970-01-01T00:00:00Z"}, now=NOW)[:2] == (None, None)
    with pytest.raises(RejectArticle):  # an impossible date beside one still rejects
        resolve({"json_ld": "0001-01-01", "feed": "1246-03-01"}, now=NOW)


# ---------------------------------------------------------------- entities
def test_catalogue_guards(pipe) -> None:  # type: ignore[no-untyped-def]
    def ids(text: str) -> list[str]:
        doc = pipe.process(RawArticle(text=text), now=NOW)
        return sorted(e["id"] for e in doc["entities"])

    assert ids("Xi met Putin. Xinjiang and taxi drivers are unrelated.") == ["putin", "xi_jinping"]
    assert ids("The US and the UN. Thus, bus routes and a unit.") == ["un", "united_states"]
    assert "sco" not in ids("他北上合肥參加會議。")  # 上合 inside 北上合肥 is no alias
    assert ids("上合峰會在撒馬爾罕舉行。") == ["samarkand", "sco"]


def test_all_spellings_of_putin_and_zelensky(pipe) -> None:  # type: ignore[no-untyped-def]
    for name in ("普京", "普丁", "蒲亭", "普廷", "Putin", "Путин"):
        doc = pipe.process(
            RawArticle(text=f"{name}今天發表談話，提到澤連斯基與泽连斯基。"), now=NOW
        )
        found = {e["id"]: e for e in doc["entities"]}
        assert "putin" in found and name in found["putin"]["aliases"]
        assert found["zelensky"]["count"] == 2


def test_catalogue_rejects_an_alias_shared_by_two_entities() -> None:
    entries = [
        {"id": "a", "type": "person", "names": {"en": "A"}, "aliases": ["同名"]},
        {"id": "b", "type": "person", "names": {"en": "B"}, "aliases": ["同名"]},
    ]
    with pytest.raises(CatalogueError, match="belongs to both"):
        Catalogue(entries)


def test_required_ids_exist(pipe) -> None:  # type: ignore[no-untyped-def]
    required = (
        "putin xi_jinping zelensky li_zhanshu lavrov wang_yi shoigu lukashenko biden trump blinken "
        "erdogan modi nato sco eu un brics g7 russia china ukraine united_states belarus kyiv "
        "kharkiv izium crimea donbas moscow beijing uzbekistan samarkand taiwan"
    ).split()
    assert set(required) <= set(pipe.catalogue.entities)
    assert len(pipe.catalogue.entities) >= 80


def _other_names(pairs: list[tuple[str, str]]) -> list[str]:
    """The names other_names finds in a text segmented and tagged as ``pairs``."""
    text = "".join(word for word, _ in pairs)
    spans = other_names(normalize(text), Segmented.from_pairs(pairs), [])
    return [text[start:end] for start, end, _ in spans]


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("王", "nr"), ("小明", "nr"), ("说", "v")], ["王小明"]),  # surname split off
        ([("周玉", "nr"), ("周玉", "nr")], ["周玉", "周玉"]),  # a name twice
        ([("林木", "nr"), ("高小兰", "nr")], ["林木", "高小兰"]),  # two names in a row
        ([("斯特罗", "nr"), ("耶夫", "nr"), ("表示", "v")], ["斯特罗耶夫"]),  # transliteration
    ],
)
def test_split_names_are_joined_and_neighbouring_names_are_not(
    pairs: list[tuple[str, str]], expected: list[str]
) -> None:
    assert _other_names(pairs) == expected


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([("今天", "t"), ("多云", "nr"), ("有", "v"), ("小雨", "nr")], []),  # weather words
        ([("令人", "nrt"), ("明白", "nr"), ("的", "uj"), ("青少年", "nr")], []),
        ([("欧阳", "nr"), ("修", "nr"), ("说", "v")], ["欧阳修"]),  # a compound surname
        ([("科菲·安南", "nr"), ("访华", "v")], ["科菲·安南"]),
        ([("伊万诺夫", "nr"), ("表示", "v")], ["伊万诺夫"]),  # a transliteration
        ([("邓小平理论", "nr")], []),  # a name inside a longer word
    ],
)
def test_person_candidates_look_like_names(
    pairs: list[tuple[str, str]], expected: list[str]
) -> None:
    # jieba's dictionary tags some common words as person names (明白 nr, 令人 nrt).
    assert _other_names(pairs) == expected


# ---------------------------------------------------------------- topics
def test_topic_rules_parse_and_report_positions() -> None:
    assert parse_rule('entity:a AND (phrase:"war in" OR NOT keyword:b)')[0] == "and"
    for bad, where in (("entity:a AND (phrase:x", "position"), ("near(x, a)", "position")):
        with pytest.raises(RuleError, match=where):
            parse_rule(bad)


@pytest.mark.parametrize(
    ("when", "says"),
    [
        ("entity:ukriane AND phrase:war", "unknown entity 'ukriane'; did you mean 'ukraine'?"),
        (
            "near(60 chars, type:persn, entity:putin)",
            "unknown type 'persn' (known: person, org, place)",
        ),
    ],
)
def test_a_topic_rule_naming_what_the_catalogue_lacks_is_refused(
    tmp_path, when: str, says: str
) -> None:  # type: ignore[no-untyped-def]
    """It used to load and never fire."""
    (tmp_path / "topics.yaml").write_text(
        yaml.safe_dump([{"id": "war", "rules": [{"name": "typo", "when": when}]}]),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=re.escape(f"topic 'war', rule 'typo': {says}")):
        build_pipeline(tmp_path)


@pytest.mark.parametrize(
    ("when", "tagged", "untagged"),
    [
        # a plain word: the phrase in either script, or the entity if it is a name
        ("蒲亭 AND 入侵", "俄軍在普京命令下入侵烏克蘭。", "俄軍入侵烏克蘭。"),
        # words close together, counted in words, any order
        (
            '"普丁 入侵"~2',
            "普京下令入侵乌克兰。",
            "普京今天发表讲话，谈到能源、贸易、外交和很多别的事情，最后才提到入侵。",
        ),
        (
            "near(2, entity:putin, 入侵)",
            "入侵是普京的决定。",
            "普京今天发表讲话，谈到能源、贸易、外交和很多别的事情，最后才提到入侵。",
        ),
        # a prefix of a token
        ("乌克* AND entity:russia", "俄罗斯与乌克兰谈判。", "俄罗斯与白俄罗斯谈判。"),
    ],
)
def test_topic_rules_speak_the_query_language(
    tmp_path, when: str, tagged: str, untagged: str
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "topics.yaml").write_text(
        yaml.safe_dump([{"id": "t", "rules": [{"name": "r", "when": when}]}], allow_unicode=True),
        encoding="utf-8",
    )
    pipeline = build_pipeline(tmp_path)
    assert pipeline.process(RawArticle(text=tagged), now=NOW)["topics"] == ["t"]
    assert pipeline.process(RawArticle(text=untagged), now=NOW)["topics"] == []


def test_xi_putin_strength(pipe) -> None:  # type: ignore[no-untyped-def]
    strong = pipe.process(RawArticle(text="習近平與普丁在莫斯科會談。"), now=NOW)
    weak = pipe.process(RawArticle(text="習近平訪問歐洲。另據報導，普丁將出訪。"), now=NOW)
    assert strong["topic_details"][0] == {
        "id": "xi_putin",
        "strength": "strong",
        "rule": "same_sentence",
    }
    assert weak["topic_details"][0] == {
        "id": "xi_putin",
        "strength": "weak",
        "rule": "same_article",
    }


# ---------------------------------------------------------------- keywords and fingerprint
def test_keywords_skip_the_news_stop_list(pipe) -> None:  # type: ignore[no-untyped-def]
    doc = pipe.process(
        RawArticle(text="外交部表示，烏克蘭糧食出口走廊恢復運作。外交部指出，糧食價格回落。"),
        now=NOW,
    )
    assert "表示" not in doc["keywords"] and "指出" not in doc["keywords"]
    assert "粮食" in doc["keywords"]


def test_english_keywords_are_not_common_words(pipe) -> None:  # type: ignore[no-untyped-def]
    text = (
        "How are the talks going? Not one of the ministers would say. Xi and Putin are "
        "meeting in Moscow, and one official said the talks are not over. How the war ends "
        "is not clear; one diplomat said talks are how wars end."
    )
    keywords = pipe.process(RawArticle(text=text, title="How talks are not over"), now=NOW)[
        "keywords"
    ]
    assert not {"are", "how", "not", "one", "the", "would"} & set(keywords)
    assert {"talks", "moscow", "diplomat"} <= set(keywords)


def test_simhash_is_close_for_republished_wire_copy(pipe) -> None:  # type: ignore[no-untyped-def]
    base = (
        "俄羅斯總統普丁今天抵達撒馬爾罕，準備出席上海合作組織峰會，並與中國國家主席習近平會談。" * 3
    )
    copy = "（示例報綜合報導）" + base + "（編輯：某人）"
    other = "台北市政府今天公布新的垃圾分類規定，明年起實施，違者將處以罰款。" * 3
    a, b, c = (
        pipe.process(RawArticle(text=t), now=NOW)["fingerprint"] for t in (base, copy, other)
    )
    assert distance(a, b) <= 8 < distance(a, c)
    assert simhash([]) == 0


def test_normalized_text_maps_entities_back(pipe) -> None:  # type: ignore[no-untyped-def]
    text = "今年2月初，俄羅斯總統蒲亭飛抵北京。"
    doc = pipe.process(RawArticle(text=text), now=NOW)
    putin = next(e for e in doc["entities"] if e["id"] == "putin")
    assert text[putin["first_offset"] : putin["first_offset"] + 2] == "蒲亭"
    assert normalize(text).text == doc["text_norm"]


def test_a_stage_error_becomes_a_rejection_naming_the_stage(pipe, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def boom(*_: object) -> None:
        raise ValueError("broken")

    monkeypatch.setattr(pipe.vocabulary, "features", boom)
    with pytest.raises(RejectArticle) as info:
        pipe.process(RawArticle(text="烏克蘭今天下雨。"), now=NOW)
    assert (info.value.reason, info.value.stage) == ("stage_error", "vocabulary")


def test_a_language_hint_that_is_no_language_tag_is_not_kept() -> None:
    from pipelines.article import RawArticle
    from pipelines.language import language_tag
    from workers.config import build_pipeline

    assert language_tag("klingon") is None and language_tag("English") is None
    assert language_tag("zh_TW") == "zh-TW" and language_tag("tlh") == "tlh"
    pipeline = build_pipeline(Settings().config_dir)
    for text, expected in (
        ("普丁與習近平今天在北京會晤，雙方討論了烏克蘭局勢。", "zh-Hant"),
        ("Xi and Putin met in Beijing on Tuesday to discuss the war.", "en"),
    ):
        raw = RawArticle(url="https://example.com/a", text=text, lang="klingon")
        assert pipeline.process(raw)["lang"] == expected


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("中国外交部长王毅说，双方同意加强合作。", {"china", "wang_yi"}, set()),
        ("俄罗斯联邦安全总局官员今天访问北京人民大会堂。", {"russia", "beijing"}, set()),
        ("截至北京时间星期五凌晨，美股收盘。", set(), {"beijing"}),
        ("白俄罗斯总统卢卡申科抵达。", {"belarus", "lukashenko"}, {"russia"}),
        ("中国银行和中国移动公布业绩。", set(), {"china"}),
        ("印度尼西亚总统今天访问雅加达以外地区。", set(), {"india"}),
        ("七国集团讨论制裁为俄军事行动提供帮助的企业。", set(), {"russian_armed_forces"}),
        ("船只驶过台湾海峡。", set(), {"taiwan"}),
        ("南中国海局势紧张。", set(), {"china"}),
        ("中国外交部发言人毛宁说。", {"china", "china_mfa"}, set()),
        ("中国外交部长秦刚说。", {"china", "qin_gang"}, {"china_mfa"}),
        ("台湾民众党主席柯文哲说。", {"taiwan", "tpp", "ko_wen_je"}, set()),
        ("蔡英文会见韩国瑜和李家超。", {"tsai_ing_wen", "han_kuo_yu", "john_lee"}, {"south_korea"}),
    ],
)
def test_names_beginning_compounds_count_and_traps_do_not(  # type: ignore[no-untyped-def]
    pipe, text: str, present: set[str], absent: set[str]
) -> None:
    for script_text in (text, converter("s2t").convert(text)):
        found = {e["id"] for e in pipe.process(RawArticle(text=script_text), now=NOW)["entities"]}
        assert present <= found and not (absent & found), (script_text, found)


@pytest.mark.parametrize(
    ("text", "topic", "tagged"),
    [
        ("中国特使今天抵达基辅，就乌克兰和平进程与泽连斯基会谈，呼吁停火。", "ukraine_war", True),
        ("外长表示，中方在乌克兰问题上始终劝和促谈。", "ukraine_war", True),
        ("北约担心中国可能向俄罗斯提供武器。", "ukraine_war", True),
        ("王毅表示，乌克兰危机决不能在亚洲上演。", "ukraine_war", False),
        ("专家认为，台湾应从俄乌战争中吸取教训，加强防卫。", "ukraine_war", False),
        ("俄罗斯总统普京抵达北京，将出席一带一路论坛。", "xi_putin", True),
        ("习近平结束俄罗斯访问行程，启程回国。", "xi_putin", True),
        ("习近平会见俄罗斯国家杜马主席。", "xi_putin", False),
        # a front-line place named in passing, with no fighting near it (a 2019 story)
        (
            "He urged lawmakers not to forget the occupation by Russia of Crimea and to keep working with Ukraine on reform.",
            "ukraine_war",
            False,
        ),
        ("Russian forces shelled Kherson overnight, Ukraine said.", "ukraine_war", True),
    ],
)
def test_topics_follow_their_definitions(pipe, text: str, topic: str, tagged: bool) -> None:  # type: ignore[no-untyped-def]
    for script_text in (text, converter("s2t").convert(text)):
        topics = pipe.process(RawArticle(text=script_text), now=NOW)["topics"]
        assert (topic in topics) is tagged, (script_text, topics)


@pytest.mark.parametrize(
    ("published", "tagged"),
    [
        ("2019-10-03T14:00:00Z", False),
        ("2022-02-23T20:00:00Z", False),
        ("2023-05-12T08:00:00Z", True),
    ],
)
def test_the_wars_diplomacy_counts_from_the_invasion(pipe, published: str, tagged: bool) -> None:  # type: ignore[no-untyped-def]
    """A 2019 impeachment story names the US special envoy for Ukraine's peace talks."""
    text = (
        "The former special envoy for Ukraine negotiations told the inquiry that "
        "the peace talks with Ukraine were never tied to an investigation."
    )
    doc = pipe.process(RawArticle(text=text, published_at=published), now=NOW)
    assert ("ukraine_war" in doc["topics"]) is tagged, (published, doc["topic_details"])


@pytest.mark.parametrize(
    ("span", "says"),
    [
        ({"since": "last year"}, "since: 'last year' is not a day written YYYY-MM-DD"),
        (
            {"since": "2023-01-01", "until": "2022-12-31"},
            "since 2023-01-01 is after until 2022-12-31",
        ),
    ],
)
def test_a_rules_span_of_days_must_be_days_in_order(
    tmp_path, span: dict[str, str], says: str
) -> None:  # type: ignore[no-untyped-def]
    rule = {"name": "r", "when": "entity:putin", **span}
    (tmp_path / "topics.yaml").write_text(
        yaml.safe_dump([{"id": "t", "rules": [rule]}]), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=re.escape(f"topic 't', rule 'r': {says}")):
        build_pipeline(tmp_path)
