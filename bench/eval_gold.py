"""Tracked entities, abbreviations, topics and people on the Zaobao 2023 dev gold set, in
both scripts.

    python bench/eval_gold.py [--zaobao FILE] [--gold FILE] [--misses]

The gold (bench/gold/zaobao_2023_dev.jsonl, drawn by bench/gold/draw.py and labelled by
hand; conventions in bench/gold/README.md) holds story ids and labels only: each story's
headline and summary are read from the publisher's file at run time. Every story is
processed as a headline with its summary, as written (simplified) and converted to
traditional script with OpenCC. Scores are micro precision and recall over (story, id)
pairs:

- tracked entities: the ids the gold names in full (names, aliases, inside compounds)
  against the document's entities; an id found that the gold has only as an
  abbreviation is not counted against precision;
- abbreviations: mentions recorded with ``"form": "abbrev"`` against the gold's;
- topics: the document's topics against the gold's, per topic;
- people: the share of the gold's person names found among the document's entity
  names and person candidates; and the same for the people the news keeps naming (in
  two or more of the 300 stories: leaders, ministers, spokespeople, candidates), counted
  over the stories that name them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import ZAOBAO_2023, data_arg, pipeline, require
from pipelines.article import RawArticle, RejectArticle

GOLD = Path(__file__).resolve().parent / "gold" / "zaobao_2023_dev.jsonl"


def ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "  n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_arg(parser, "--zaobao", ZAOBAO_2023, "Zaobao 2023 stories")
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--misses", action="store_true", help="list each miss and false find")
    args = parser.parse_args()
    if not require(args.zaobao, "the Zaobao 2023 stories"):
        return 0
    import opencc

    to_traditional = opencc.OpenCC("s2t")
    labels = [json.loads(line) for line in args.gold.read_text(encoding="utf-8").splitlines()]
    wanted = {label["story"] for label in labels}
    with gzip.open(args.zaobao, "rt", encoding="utf-8") as handle:
        stories = {
            row["story_id"]: row for row in map(json.loads, handle) if row["story_id"] in wanted
        }
    named_in = Counter(person for label in labels for person in set(label["people"]))
    recurring = {person for person, stories_of in named_in.items() if stories_of >= 2}
    pipe = pipeline()
    print(f"{len(labels)} labelled stories")
    for script in ("simplified", "traditional"):
        tally: Counter[str] = Counter()
        misses: list[str] = []
        for label in labels:
            row = stories[label["story"]]
            title, summary = row["title"], row.get("summary") or ""
            if script == "traditional":
                title, summary = to_traditional.convert(title), to_traditional.convert(summary)
            raw = RawArticle(url=row["url"], title=title, text=summary or title, source="zaobao")
            try:
                doc = pipe.process(raw)
            except RejectArticle:
                doc = {"entities": [], "entities_other": [], "topics": []}
            found = {e["id"] for e in doc["entities"]}
            named = set(label["entities"])
            short = set(label["abbrevs"])
            tally["entity_gold"] += len(named)
            tally["entity_hit"] += len(named & found)
            tally["entity_found"] += len(found - (short - named))
            tally["entity_right"] += len(found & named)
            abbrev_found = {e["id"] for e in doc["entities"] if "abbrev" in (e.get("forms") or [])}
            tally["abbrev_gold"] += len(short)
            tally["abbrev_hit"] += len(short & abbrev_found)
            tally["abbrev_found"] += len(abbrev_found)
            topics = set(doc["topics"])
            for topic in ("xi_putin", "ukraine_war"):
                gold_has, found_has = topic in label["topics"], topic in topics
                tally[f"{topic}_gold"] += gold_has
                tally[f"{topic}_found"] += found_has
                tally[f"{topic}_hit"] += gold_has and found_has
            names = {e["name"] for e in doc["entities"]} | {
                alias for e in doc["entities"] for alias in e.get("aliases", [])
            }
            names |= {o["name"] for o in doc.get("entities_other", []) if o["type"] == "person"}
            if script == "traditional":
                names = {opencc.OpenCC("t2s").convert(n) for n in names}
            people = set(label["people"])
            tally["people_gold"] += len(people)
            tally["people_hit"] += len(people & names)
            tally["recurring_gold"] += len(people & recurring)
            tally["recurring_hit"] += len(people & recurring & names)
            if args.misses and script == "simplified":
                for what, ids in (("missed", named - found), ("extra", found - named - short)):
                    if ids:
                        misses.append(f"  [{label['n']}] {what} {sorted(ids)}: {row['title']}")
                if people - names:
                    misses.append(
                        f"  [{label['n']}] people missed {sorted(people - names)}: {row['title']}"
                    )
        print(f"\n{script}:")
        print(
            f"  tracked entities  P {ratio(tally['entity_right'], tally['entity_found'])}"
            f"  R {ratio(tally['entity_hit'], tally['entity_gold'])}"
            f"  ({tally['entity_gold']} gold)"
        )
        print(
            f"  abbreviations     P {ratio(tally['abbrev_hit'], tally['abbrev_found'])}"
            f"  R {ratio(tally['abbrev_hit'], tally['abbrev_gold'])}"
            f"  ({tally['abbrev_gold']} gold)"
        )
        for topic in ("xi_putin", "ukraine_war"):
            print(
                f"  {topic:<17} P {ratio(tally[f'{topic}_hit'], tally[f'{topic}_found'])}"
                f"  R {ratio(tally[f'{topic}_hit'], tally[f'{topic}_gold'])}"
                f"  ({tally[f'{topic}_gold']} gold)"
            )
        print(
            f"  people found      {ratio(tally['people_hit'], tally['people_gold'])}"
            f"  ({tally['people_gold']} gold)"
        )
        print(
            f"  people named in 2+ stories found {ratio(tally['recurring_hit'], tally['recurring_gold'])}"
            f"  ({len(recurring)} people, {tally['recurring_gold']} gold)"
        )
        if misses:
            print("\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
