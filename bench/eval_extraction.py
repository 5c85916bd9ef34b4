"""Article-body extraction F1: mediamon vs trafilatura, with each data set's own scorer.

    python bench/eval_extraction.py [--wce DIR] [--aeb DIR]

Sets: the Chinese Web Content Extraction pages (original/*.html, many GBK; gold text
in cleaned/*.txt; scored by its evaluation.py) and the ScrapingHub article-extraction
benchmark (html/*.html.gz; ground-truth.json; scored by its evaluate.py). mediamon's
body is what the pipeline indexes: decode, extract, then clean. Both scorers compare
4-token shingles; the figures are their F1, precision and recall (mean over pages).
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import DEFAULT_DATA, data_arg, pipeline, require
from pipelines.article import RawArticle, RejectArticle
from pipelines.clean import clean


def load_scorer(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"scorer_{path.parent.name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mediamon_body(html: bytes, pipe) -> str:  # type: ignore[no-untyped-def]
    try:
        article = pipe.load(RawArticle(content=html, text_source="page"))
        return clean(article, rules=pipe.sources).body
    except RejectArticle:
        return ""


def trafilatura_body(html: bytes) -> str:
    import trafilatura

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return trafilatura.extract(html, include_comments=False, include_tables=False) or ""


def run(pages: dict[str, bytes], extract: Callable[[bytes], str]) -> tuple[dict[str, dict], float]:
    started = time.perf_counter()
    out = {key: {"articleBody": extract(html)} for key, html in pages.items()}
    return out, len(pages) / (time.perf_counter() - started)


def report(name: str, scorer: ModuleType, gold: dict, pages: dict[str, bytes], pipe) -> None:  # type: ignore[no-untyped-def]
    for system, extract in (
        ("trafilatura", trafilatura_body),
        ("mediamon", lambda html: mediamon_body(html, pipe)),
    ):
        prediction, rate = run(pages, extract)
        metrics = scorer.evaluate(gold, prediction, 200)
        print(
            f"{name:<12} {system:<12} F1={metrics['f1']:.3f} P={metrics['precision']:.3f} "
            f"R={metrics['recall']:.3f} pages={len(pages)} {rate:.0f} pages/s"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_arg(parser, "--wce", DEFAULT_DATA / "extraction" / "chinese_wce", "Chinese WCE folder")
    data_arg(
        parser, "--aeb", DEFAULT_DATA / "extraction" / "scrapinghub_aeb", "ScrapingHub AEB folder"
    )
    args = parser.parse_args()
    pipe = pipeline()
    if require(args.wce, "Chinese WCE extraction evaluation"):
        pages = {p.stem: p.read_bytes() for p in sorted((args.wce / "original").glob("*.html"))}
        gold = {
            key: {"articleBody": (args.wce / "cleaned" / f"{key}.txt").read_text(encoding="utf-8")}
            for key in pages
            if (args.wce / "cleaned" / f"{key}.txt").exists()
        }
        pages = {k: v for k, v in pages.items() if k in gold}
        report("chinese_wce", load_scorer(args.wce / "evaluation.py"), gold, pages, pipe)
    if require(args.aeb, "ScrapingHub extraction evaluation"):
        truth = json.loads((args.aeb / "ground-truth.json").read_text(encoding="utf-8"))
        pages = {
            key: gzip.decompress((args.aeb / "html" / f"{key}.html.gz").read_bytes())
            for key in truth
            if (args.aeb / "html" / f"{key}.html.gz").exists()
        }
        gold = {
            k: {"articleBody": v.get("articleBody", "")} for k, v in truth.items() if k in pages
        }
        report("scrapinghub", load_scorer(args.aeb / "evaluate.py"), gold, pages, pipe)
    return 0


if __name__ == "__main__":
    sys.exit(main())
