"""Publication dates and bylines read from pages: mediamon vs htmldate, on the Chinese
WCE pages' date and author gold.

    python bench/eval_dates.py [--wce DIR] [--list]

Each page is processed as the worker would process it, fetched at a fixed time after
the newest gold date, with the address the set records for it (the `id` of its
`<text>` wrapper). A page "shows a date" when its gold has a year, month and day; the
date is right when the day matches, wrong when another day is given, and missing when
the pipeline falls back to the fetch time. htmldate (the trafilatura author's library)
reads the same bytes, decoded the same way. A byline is right when it names the gold
author (or one of the gold authors), wrong when it names someone else.
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import DEFAULT_DATA, data_arg, pipeline, require
from pipelines.article import RawArticle, RejectArticle
from pipelines.decode import decode

FETCHED = datetime(2026, 1, 1, tzinfo=UTC)
_WRAPPER_URL = re.compile(rb'<text id="([^"]+)"')
_GOLD_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")


def gold_day(text: str) -> str | None:
    match = _GOLD_DAY.match(text.strip())
    if not match:
        return None
    year, month, day = map(int, match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"


def gold_authors(text: str) -> list[str]:
    text = text.strip()
    if not text or text == "UNKNOWN":
        return []
    return [a for a in re.split(r"[\s,，、;；/]+", text) if a]


def htmldate_day(html: str) -> str | None:
    from htmldate import find_date

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return find_date(html, outputformat="%Y-%m-%d", max_date=FETCHED.strftime("%Y-%m-%d"))
        except Exception:
            return None


def judge(found: str | None, gold: str) -> str:
    return "missing" if not found else "right" if found == gold else "wrong"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_arg(parser, "--wce", DEFAULT_DATA / "extraction" / "chinese_wce", "WCE folder")
    parser.add_argument("--list", action="store_true", help="print each page's outcome")
    args = parser.parse_args()
    if not require(args.wce, "the Chinese WCE pages"):
        return 0
    pipe = pipeline()
    tally: dict[str, dict[str, int]] = {"mediamon": {}, "htmldate": {}, "byline": {}}
    shown = with_author = 0
    for page in sorted((args.wce / "original").glob("*.html")):
        content = page.read_bytes()
        found_url = _WRAPPER_URL.search(content[:2000])
        url = found_url.group(1).decode("ascii", "replace") if found_url else None
        gold_date = (args.wce / "date" / f"{page.stem}.txt").read_text(encoding="utf-8")
        authors = gold_authors((args.wce / "author" / f"{page.stem}.txt").read_text("utf-8"))
        try:
            doc = pipe.process(RawArticle(url=url, content=content), now=FETCHED)
        except RejectArticle as exc:
            doc = {"published_at_source": "fetched", "byline": [], "rejected": exc.reason}
        day = gold_day(gold_date)
        outcomes = []
        if day:
            shown += 1
            ours = None if doc["published_at_source"] == "fetched" else doc["published_at"][:10]
            theirs = htmldate_day(decode(content).text)
            for name, value in (("mediamon", ours), ("htmldate", theirs)):
                verdict = judge(value, day)
                tally[name][verdict] = tally[name].get(verdict, 0) + 1
                outcomes.append(f"{name} {value} ({verdict})")
        if authors:
            with_author += 1
            byline = doc.get("byline") or []
            named = any(a in name or name in a for a in authors for name in byline if name)
            verdict = "right" if named else "wrong" if byline else "missing"
            tally["byline"][verdict] = tally["byline"].get(verdict, 0) + 1
            outcomes.append(f"byline {byline} vs {authors} ({verdict})")
        if args.list:
            print(f"{page.stem[:8]} gold {day or gold_date.strip()[:12]}: " + "; ".join(outcomes))
    print(
        f"{len(list((args.wce / 'original').glob('*.html')))} WCE pages; {shown} show a date, "
        f"{with_author} name an author"
    )
    for name in ("mediamon", "htmldate"):
        t = tally[name]
        print(
            f"date   {name:<9} right {t.get('right', 0):>3} ({t.get('right', 0) / max(1, shown):.0%})"
            f"  wrong {t.get('wrong', 0):>3}  missing {t.get('missing', 0):>3}"
        )
    t = tally["byline"]
    print(
        f"byline mediamon  right {t.get('right', 0):>3} ({t.get('right', 0) / max(1, with_author):.0%})"
        f"  wrong {t.get('wrong', 0):>3}  missing {t.get('missing', 0):>3}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
