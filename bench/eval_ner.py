"""Named-entity spans (PER, LOC, ORG): mediamon vs default jieba's part-of-speech tags.

    python bench/eval_ner.py [--peoples-daily FILE] [--weibo FILE] [--cluener FILE]

mediamon's names are the entity catalogue's matches plus the candidates it keeps in
`entities_other` (jieba-rs name tags on the simplified search form, adjacent person
tokens joined, place + institution word as an organisation). The baseline is
`jieba.posseg` (nr/nrt/nrfg = PER, ns = LOC, nt = ORG) on the text as given. Scores
are exact-span micro precision/recall/F1. Weibo counts named mentions only (*.NAM;
GPE as LOC). CLUENER 2020 (JSON lines) counts name as PER, address as LOC, and
organization, company and government as ORG; its other classes (books, games, movies,
positions, scenes) are left out, so a prediction on one of those counts against us.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import DEFAULT_DATA, data_arg, pipeline, quiet_jieba, require
from pipelines.entities import name_spans
from pipelines.normalize import normalize

TYPE_OF = {"person": "PER", "place": "LOC", "org": "ORG"}
POS_OF = {"nr": "PER", "nrt": "PER", "nrfg": "PER", "ns": "LOC", "nt": "ORG"}
Span = tuple[int, int, str]


def read_bio(path: Path, *, weibo: bool) -> list[tuple[str, set[Span]]]:
    sentences, chars, tags = [], [], []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        parts = line.split()
        if len(parts) < 2:
            if chars:
                sentences.append(("".join(chars), spans_from_bio(tags)))
            chars, tags = [], []
            continue
        char, tag = parts[0], parts[-1]
        if weibo:
            char = char[:-1] if len(char) > 1 and char[-1].isdigit() else char
            if tag != "O":
                kind, _, mention = tag[2:].partition(".")
                tag = "O" if mention != "NAM" else tag[:2] + ("LOC" if kind == "GPE" else kind)
        chars.append(char)
        tags.append(tag)
    return sentences


CLUENER_TYPES = {
    "name": "PER",
    "address": "LOC",
    "organization": "ORG",
    "company": "ORG",
    "government": "ORG",
}


def read_cluener(path: Path) -> list[tuple[str, set[Span]]]:
    sentences = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        spans = {
            (start, end + 1, CLUENER_TYPES[label])
            for label, names in obj.get("label", {}).items()
            if label in CLUENER_TYPES
            for places in names.values()
            for start, end in places
        }
        sentences.append((obj["text"], spans))
    return sentences


def spans_from_bio(tags: list[str]) -> set[Span]:
    spans, start, kind = set(), None, None
    for i, tag in enumerate([*tags, "O"]):
        if tag.startswith("B-") or tag == "O" or (tag.startswith("I-") and tag[2:] != kind):
            if start is not None:
                spans.add((start, i, kind))
            start, kind = (i, tag[2:]) if tag[:2] in ("B-", "I-") else (None, None)
    return {s for s in spans if s[2] in ("PER", "LOC", "ORG")}


def mediamon_spans(text: str, pipe) -> set[Span]:  # type: ignore[no-untyped-def]
    norm = normalize(text)
    segmented = pipe.segmenter.segment(norm.text)
    mentions = pipe.catalogue.find(text, norm, segmented.edges())
    return {
        (s, e, TYPE_OF[k])
        for s, e, k in name_spans(text, norm, segmented, mentions)
        if k in TYPE_OF
    }


def jieba_spans(text: str, posseg) -> set[Span]:  # type: ignore[no-untyped-def]
    spans, position = set(), 0
    for pair in posseg.lcut(text):
        end = position + len(pair.word)
        if pair.flag in POS_OF:
            spans.add((position, end, POS_OF[pair.flag]))
        position = end
    return spans


def evaluate(sentences, predict) -> tuple[dict[str, tuple[float, float, float]], float]:  # type: ignore[no-untyped-def]
    tp, fp, fn = Counter(), Counter(), Counter()
    started = time.perf_counter()
    for text, gold in sentences:
        pred = predict(text)
        for span in pred:
            (tp if span in gold else fp)[span[2]] += 1
        for span in gold - pred:
            fn[span[2]] += 1
    rate = len(sentences) / (time.perf_counter() - started)
    out = {}
    for kind in ("PER", "LOC", "ORG", "all"):
        t = sum(tp.values()) if kind == "all" else tp[kind]
        p_ = sum(fp.values()) if kind == "all" else fp[kind]
        n = sum(fn.values()) if kind == "all" else fn[kind]
        precision = t / (t + p_) if t + p_ else 0.0
        recall = t / (t + n) if t + n else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[kind] = (precision, recall, f1)
    return out, rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_arg(
        parser,
        "--peoples-daily",
        DEFAULT_DATA / "ner" / "peoples_daily_ner" / "example.dev",
        "People's Daily NER dev (char BIO)",
    )
    data_arg(
        parser,
        "--weibo",
        DEFAULT_DATA / "ner" / "weibo_ner" / "weiboNER_2nd_conll.dev",
        "Weibo NER dev",
    )
    data_arg(
        parser,
        "--cluener",
        DEFAULT_DATA / "ner" / "cluener2020" / "dev.json",
        "CLUENER 2020 dev (JSON lines)",
    )
    args = parser.parse_args()
    pipe = pipeline()
    posseg = quiet_jieba().posseg
    print(f"{'set':<14} {'system':<16} {'type':<4} {'P':>6} {'R':>6} {'F1':>6}")
    for name, path, read in (
        ("peoples_daily", args.peoples_daily, lambda p: read_bio(p, weibo=False)),
        ("weibo", args.weibo, lambda p: read_bio(p, weibo=True)),
        ("cluener", args.cluener, read_cluener),
    ):
        if not require(path, f"{name} NER evaluation"):
            continue
        sentences = read(path)
        for system, predict in (
            ("jieba.posseg", lambda text: jieba_spans(text, posseg)),
            ("mediamon", lambda text: mediamon_spans(text, pipe)),
        ):
            scores, rate = evaluate(sentences, predict)
            for kind, (p, r, f) in scores.items():
                print(f"{name:<14} {system:<16} {kind:<4} {p:6.3f} {r:6.3f} {f:6.3f}")
            print(f"{name:<14} {system:<16} {len(sentences)} sentences, {rate:.0f} sentences/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
