"""The most frequent person candidates (names outside the catalogue) over a month of
Zaobao 2023, to be read by eye.

    python bench/eval_candidates.py [--zaobao FILE] [--month 2023-05] [--top 50]

Each story of the month (by the date in its id, ``story20230517-…``) is processed as a
headline with its summary; the script prints the number of stories and the top
candidates typed ``person`` with the number of stories each appears in. Whether each is
a real person is a reader's call: docs/quality.md records one reading.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    data_arg(parser, "--zaobao", ZAOBAO_2023, "Zaobao 2023 stories")
    parser.add_argument("--month", default="2023-05", help="YYYY-MM")
    parser.add_argument("--top", type=int, default=50)
    args = parser.parse_args()
    if not require(args.zaobao, "person candidates"):
        return 0
    prefix = "story" + args.month.replace("-", "")
    pipe = pipeline()
    counts: Counter[str] = Counter()
    stories = 0
    with gzip.open(args.zaobao, "rt", encoding="utf-8") as handle:
        for row in map(json.loads, handle):
            if not str(row.get("story_id", "")).startswith(prefix):
                continue
            stories += 1
            raw = RawArticle(
                url=row["url"],
                title=row["title"],
                text=row.get("summary") or row["title"],
                source="zaobao",
            )
            try:
                doc = pipe.process(raw)
            except RejectArticle:
                continue
            counts.update({o["name"] for o in doc["entities_other"] if o["type"] == "person"})
    print(f"{stories} stories of {args.month}; the {args.top} most frequent person candidates:")
    for rank, (name, n) in enumerate(counts.most_common(args.top), 1):
        print(f"{rank:3d}  {name}  {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
