"""Machine instructions per seed article, counted by valgrind: a figure that does not move
with the machine's load, for comparing two versions of the pipeline on a shared machine.

    python bench/bench_instructions.py [--against COMMIT] [--articles N]

Each count runs the pipeline under ``valgrind --tool=callgrind`` twice, once with N seed
articles after a warm-up of 50 and once with none, and takes the difference over N: the
cost of an article once the process's tables are warm, without start-up. With
``--against``, the same is counted for COMMIT, checked out in a temporary worktree with
its own native module built there, and the ratio is printed. Instructions are not
seconds (cache misses and branch mispredictions are not in them) but, for the same
interpreter, a rise in one is a rise in the other; the timed figures are
bench_pipeline.py's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("traditional", "simplified")
WARM_UP = 50


def child(root: Path, articles: int, variant: str) -> None:
    """In the process valgrind runs: the pipeline of ``root`` on the seed article."""
    sys.path.insert(0, str(root))
    from bench._common import SEED, pipeline
    from pipelines.article import RawArticle
    from pipelines.normalize import to_simplified

    pipe = pipeline()
    text = SEED.read_text(encoding="utf-8")
    if variant == "simplified":
        text = to_simplified(text)
    for i in range(WARM_UP):
        pipe.process(RawArticle(text=text, url=f"https://example.org/warm/{i}"))
    for i in range(articles):
        pipe.process(RawArticle(text=text, url=f"https://example.org/{i}"))


def count(root: Path, python_path: str, articles: int, variant: str) -> int:
    """Instructions valgrind counted for one run of ``child``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        # one hash seed, so that sets and dicts are laid out alike from run to run
        env = {**os.environ, "PYTHONPATH": python_path, "PYTHONHASHSEED": "0"}
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
             sys.executable, __file__, "--child", str(root), str(articles), variant],
            cwd=root, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode or not found:
        sys.exit(f"valgrind run failed in {root} ({variant}):\n{run.stderr[-2000:]}")
    return int(found.group(1))


def per_article(root: Path, python_path: str, articles: int, variant: str) -> float:
    with ThreadPoolExecutor(2) as pool:  # the two runs side by side: counts do not mind
        full = pool.submit(count, root, python_path, articles, variant)
        empty = pool.submit(count, root, python_path, 0, variant)
        return (full.result() - empty.result()) / articles


def checkout(commit: str, into: Path) -> str:
    """A worktree of ``commit`` with its native module built beside it; the PYTHONPATH
    that runs it."""
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(into / "src"), commit],
        check=True, capture_output=True,
    )  # fmt: skip
    wheels = into / "wheels"
    # Its own cargo target folder: in a shared one, this checkout's library would take
    # the place of the project's, and cargo, finding the project's build fresh, would
    # not put it back.
    env = {
        **os.environ,
        "MATURIN_PEP517_ARGS": "--locked",
        "CARGO_TARGET_DIR": str(into / "target"),
    }
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), "./native"],
        cwd=into / "src", env=env, check=True,
    )  # fmt: skip
    (wheel,) = wheels.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(into / "native")
    # the seed and data sets are found beside the checkout, as from the project's folder
    shared = ROOT.parent / "shared"
    if shared.exists():
        (into / "shared").symlink_to(shared)
    return f"{into / 'native'}{os.pathsep}{into / 'src'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="COMMIT", help="count this commit too")
    parser.add_argument("--articles", type=int, default=200, help="articles counted")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("skipped: valgrind not found (Debian package valgrind)", file=sys.stderr)
        return 0
    from bench._common import SEED, require

    if not require(SEED, "instruction counts"):
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        other = checkout(args.against, Path(tmp)) if args.against else None
        try:
            for variant in VARIANTS:
                here = per_article(ROOT, str(ROOT), args.articles, variant)
                there = (
                    per_article(Path(tmp) / "src", other, args.articles, variant) if other else None
                )
                line = f"seed, {variant:<12} {here / 1e6:8.2f} M instructions an article"
                if there is not None:
                    line += f"; {args.against}: {there / 1e6:.2f} M, ratio {here / there:.3f}"
                print(line, flush=True)
        finally:
            if other:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "-f", str(Path(tmp) / "src")],
                    check=False, capture_output=True,
                )  # fmt: skip
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        sys.path.insert(0, str(ROOT))
        sys.exit(main())
