"""Pipeline throughput per core and peak memory, beside a naive jieba pipeline.

    python bench/bench_pipeline.py [--seed FILE] [--zaobao FILE] [--wce DIR] [--seconds N]

Cases, each timed in this one process (CPU time, best of several rounds):
- text -> document on the seed article (traditional, ~6 KB) and its simplified and
  mainland-usage variants, then the traditional seed again with the per-process token
  table nearly full (as in a worker that has run for hours), and once more with the
  segmenter's word table off (every word's string built anew);
- HTML -> document on the Chinese WCE pages (when present) and the project's fixture page;
- Zaobao 2023 headlines + summaries (title + ~100 characters each);
- the naive path on the seed: jieba.lcut + jieba.posseg.lcut + jieba.analyse.extract_tags
  (the baseline the issue measured at 0.47 articles/s on traditional text).
Peak memory is the process's maximum resident set after the dictionaries are loaded.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import (
    DEFAULT_DATA,
    ROOT,
    SEED,
    ZAOBAO_2023,
    data_arg,
    pipeline,
    quiet_jieba,
    require,
)
from pipelines.article import RawArticle
from pipelines.normalize import to_simplified
from pipelines.segment import Segmenter


def rate(func: Callable[[], object], items: int, seconds: float) -> float:
    """Items per CPU second, best of rounds lasting about ``seconds`` in all."""
    func()
    best = 0.0
    deadline = time.monotonic() + seconds
    while True:
        started = time.process_time()
        func()
        elapsed = time.process_time() - started
        best = max(best, items / max(elapsed, 1e-9))
        if time.monotonic() > deadline:
            return best


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_arg(parser, "--seed", SEED, "seed article")
    data_arg(parser, "--zaobao", ZAOBAO_2023, "Zaobao headlines (JSONL.gz)")
    data_arg(parser, "--wce", DEFAULT_DATA / "extraction" / "chinese_wce", "Chinese WCE pages")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per case")
    parser.add_argument(
        "--naive-articles",
        type=int,
        default=2,
        help="seed articles for the (very slow) naive posseg path",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    pipe = pipeline()
    print(
        f"load: dictionaries and config in {time.perf_counter() - started:.2f}s, "
        f"peak RSS {peak_mb():.0f} MB"
    )
    rows: list[tuple[str, float]] = []

    if require(args.seed, "seed cases"):
        seed = args.seed.read_text(encoding="utf-8")
        variants = {
            "seed, traditional": seed,
            "seed, simplified": to_simplified(seed),
            "seed, mainland usage": to_simplified(seed)
            .replace("蒲亭", "普京")
            .replace("泽伦斯基", "泽连斯基"),
        }
        for name, text in variants.items():
            raws = [RawArticle(text=text, url=f"https://example.org/{i}") for i in range(50)]
            rows.append(
                (
                    f"text -> document ({name})",
                    rate(
                        lambda raws=raws: [pipe.process(r) for r in raws], len(raws), args.seconds
                    ),
                )
            )

        # A long-running worker's token table is nearly full (pipelines.vocabulary): the
        # same seed again, with 95,000 other tokens known, shows what a lookup costs then.
        pipe.vocabulary.features([f"filler{n}" for n in range(95_000)])
        raws = [RawArticle(text=seed, url=f"https://example.org/{i}") for i in range(50)]
        rows.append(
            (
                "text -> document (seed, traditional, token table full)",
                rate(lambda raws=raws: [pipe.process(r) for r in raws], len(raws), args.seconds),
            )
        )
        # The segmenter hands out words it has seen as the same strings (a table of
        # WORD_TABLE words, emptied when full); without it every word is built anew, as
        # for a text of words the process has never seen.
        kept = pipe.segmenter
        pipe.segmenter = Segmenter(pipe.catalogue.user_words(), word_table=0)
        rows.append(
            (
                "text -> document (seed, traditional, no word table)",
                rate(lambda raws=raws: [pipe.process(r) for r in raws], len(raws), args.seconds),
            )
        )
        pipe.segmenter = kept

    pages = []
    if require(args.wce, "WCE pages"):
        pages = [p.read_bytes() for p in sorted((args.wce / "original").glob("*.html"))]
    pages.append((ROOT / "tests" / "data" / "en-page" / "input.html").read_bytes())

    def html_batch() -> None:
        for page in pages:
            with contextlib.suppress(Exception):
                pipe.process(RawArticle(content=page))

    rows.append(
        (f"HTML -> document ({len(pages)} pages)", rate(html_batch, len(pages), args.seconds))
    )

    if require(args.zaobao, "Zaobao headlines"):
        with gzip.open(args.zaobao, "rt", encoding="utf-8") as handle:
            stories = [json.loads(line) for line in handle][:2000]
        raws = [
            RawArticle(
                text=s.get("summary") or s["title"], title=s["title"], url=s["url"], source="zaobao"
            )
            for s in stories
        ]
        rows.append(
            (
                f"headline -> document (Zaobao, {len(raws)})",
                rate(lambda: [pipe.process(r) for r in raws], len(raws), args.seconds),
            )
        )

    if require(args.seed, "naive jieba baseline"):
        jieba = quiet_jieba()

        def naive() -> None:
            for _ in range(args.naive_articles):
                jieba.lcut(seed)
                jieba.posseg.lcut(seed)
                jieba.analyse.extract_tags(seed, topK=12)

        started = time.process_time()
        naive()
        naive_rate = args.naive_articles / (time.process_time() - started)
        rows.append(("naive jieba (lcut + posseg + extract_tags), seed", naive_rate))

    width = max(len(name) for name, _ in rows)
    print(f"{'case':<{width}}  per core")
    for name, value in rows:
        print(f"{name:<{width}}  {value:10.1f} /s")
    text_rates = [value for name, value in rows if name.startswith("text -> document (seed, trad")]
    if text_rates and rows[-1][0].startswith("naive"):
        naive_rate = rows[-1][1]
        print(
            f"naive path: {naive_rate:.3f} /s; speed-up over it on traditional text: "
            f"{text_rates[0] / naive_rate:.0f}x (slowest traditional case: "
            f"{min(text_rates) / naive_rate:.0f}x)"
        )
    print(f"peak RSS {peak_mb():.0f} MB (this process: pipeline + jieba baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
