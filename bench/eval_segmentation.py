"""SIGHAN 2005 word segmentation F1 with the official scorer: mediamon vs default jieba.

    python bench/eval_segmentation.py [--icwb2 DIR] [--corpora pku msr cityu]

mediamon segments the simplified search form (OpenCC t2s) with jieba-rs and the entity
catalogue's user dictionary, then maps the words back onto the original characters;
the baseline is `jieba.lcut` on the text as given. Both outputs are scored by
`scripts/score` (perl) against the gold files with the corpus's training word list.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import DEFAULT_DATA, data_arg, pipeline, quiet_jieba, require
from pipelines.normalize import normalize


def mediamon_segment(line: str, segmenter) -> list[str]:  # type: ignore[no-untyped-def]
    norm = normalize(line)
    words = []
    for word in segmenter.cut(norm.text):
        words.append(word)
    # map the search-form words back onto the original characters
    out, position = [], 0
    for word in words:
        o_start, o_end = norm.original_span(position, position + len(word))
        out.append(line[o_start:o_end])
        position += len(word)
    return [w for w in out if w.strip()]


def score(script: Path, words: Path, gold: Path, output: Path) -> dict[str, float]:
    result = subprocess.run(
        ["perl", str(script), str(words), str(gold), str(output)],
        capture_output=True,
        text=True,
        check=True,
    )
    labels = {
        "R": "TOTAL TRUE WORDS RECALL",
        "P": "TOTAL TEST WORDS PRECISION",
        "F1": "F MEASURE",
        "OOV-R": "OOV Recall Rate",
    }
    figures = {}
    for key, label in labels.items():
        match = re.search(rf"=== {label}:\s*([\d.]+)", result.stdout)
        figures[key] = float(match.group(1)) if match else float("nan")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_arg(parser, "--icwb2", DEFAULT_DATA / "cws" / "icwb2", "SIGHAN icwb2 folder")
    parser.add_argument("--corpora", nargs="+", default=["pku", "msr", "cityu"])
    args = parser.parse_args()
    if not require(args.icwb2, "segmentation evaluation"):
        return 0
    segmenter = pipeline().segmenter
    jieba = quiet_jieba()
    print(f"{'corpus':<8} {'system':<16} {'P':>6} {'R':>6} {'F1':>6} {'OOV-R':>6} {'lines/s':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for corpus in args.corpora:
            test = args.icwb2 / "testing" / f"{corpus}_test.utf8"
            gold = args.icwb2 / "gold" / f"{corpus}_test_gold.utf8"
            words = args.icwb2 / "gold" / f"{corpus}_training_words.utf8"
            if not (require(test, corpus) and require(gold, corpus)):
                continue
            lines = test.read_text(encoding="utf-8-sig").splitlines()
            systems = {
                "jieba (default)": lambda line: [w for w in jieba.lcut(line) if w.strip()],
                "mediamon": lambda line: mediamon_segment(line, segmenter),
            }
            for name, segment in systems.items():
                started = time.perf_counter()
                output = [" ".join(segment(line)) for line in lines]
                rate = len(lines) / (time.perf_counter() - started)
                path = Path(tmp) / f"{corpus}-{name.split()[0]}.txt"
                path.write_text("\n".join(output) + "\n", encoding="utf-8")
                f = score(args.icwb2 / "scripts" / "score", words, gold, path)
                print(
                    f"{corpus:<8} {name:<16} {f['P']:6.3f} {f['R']:6.3f} {f['F1']:6.3f} "
                    f"{f['OOV-R']:6.3f} {rate:9.0f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
