"""Draw the Zaobao 2023 dev sample that bench/gold/zaobao_2023_dev.jsonl labels.

    python bench/gold/draw.py [--zaobao FILE] [--show START:END]

The sample is 300 stories of `news/zaobao/zaobao_2023.jsonl.gz`, drawn with a fixed
seed: 150 uniformly from all stories (what the feed is like), and 150 from the stories
whose headline or summary touches the mission (Russia, Ukraine, the war and its
diplomacy, Putin, the big powers' one-character abbreviations: the cases that fail;
Taiwan and Hong Kong are frequent enough in the uniform part),
so that rare classes have enough examples to be scored. The labels hold story ids
only; the scorer joins them with the publisher's text at run time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench._common import ZAOBAO_2023 as ZAOBAO

SEED = 2023_16
UNIFORM = 150
FOCUSED = 150
FOCUS = re.compile(
    "俄|乌克兰|乌军|普京|泽连斯基|北约|联合国|联大|上合|战争|停火|和谈|特使|军援|制裁|"
    "中美|美中|中欧|访美|访华|驻美"
)


def stories(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def draw(rows: list[dict]) -> list[dict]:
    """The sample, in a stable order (uniform part first, then the focused part)."""
    rng = random.Random(SEED)
    uniform = rng.sample(rows, UNIFORM)
    taken = {r["story_id"] for r in uniform}
    pool = [
        r
        for r in rows
        if r["story_id"] not in taken and FOCUS.search(r["title"] + (r.get("summary") or ""))
    ]
    return uniform + rng.sample(pool, FOCUSED)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zaobao", type=Path, default=ZAOBAO)
    parser.add_argument("--show", default="", help="print stories START:END of the sample")
    args = parser.parse_args()
    if not args.zaobao.exists():
        print(f"skipped: {args.zaobao} not found", file=sys.stderr)
        return 0
    sample = draw(stories(args.zaobao))
    start, _, end = args.show.partition(":")
    for n, row in enumerate(sample[int(start or 0) : int(end or len(sample))], int(start or 0)):
        print(f"[{n}] {row['story_id']}\n  {row['title']}\n  {row.get('summary') or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
