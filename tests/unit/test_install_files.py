"""The install files name only what a registry serves, and the wheel carries every
package: a fresh machine has none of this machine's folders or caches."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL_FILES = [
    "constraints.txt",
    "pyproject.toml",
    "native/pyproject.toml",
    "Dockerfile",
    *(p.name for p in ROOT.glob("requirements*.txt")),
]
# A direct reference (`name @ url`) or a file URL: what pip freeze writes for a package
# installed from a local wheel or folder.
DIRECT_REFERENCE = re.compile(r"\bfile:|\s@\s")
# An absolute path of a developer's machine (a Dockerfile's paths are the image's own).
MACHINE_PATH = re.compile(DIRECT_REFERENCE.pattern + r"|(?<![\w.])/(?:tmp|root|home|work|Users)/")


def offending_lines(text: str, pattern: re.Pattern[str] = MACHINE_PATH) -> list[str]:
    return [
        line
        for line in text.splitlines()
        if pattern.search(line.split("#", 1)[0]) and not line.lstrip().startswith("#")
    ]


@pytest.mark.parametrize("name", INSTALL_FILES)
def test_no_install_file_names_a_local_path(name: str) -> None:
    pattern = DIRECT_REFERENCE if name == "Dockerfile" else MACHINE_PATH
    assert offending_lines((ROOT / name).read_text(encoding="utf-8"), pattern) == []


@pytest.mark.parametrize(
    "line",
    [
        "wordfreq @ file:///tmp/wf/wordfreq-3.1.1-py3-none-any.whl#sha256=4b1c",
        "mediamon-native @ file:///work/main/native",
        "foo==1.0 ; python_version > '3' --find-links /root/wheels",
        "--find-links /home/dev/wheels",
    ],
)
def test_the_check_catches_what_pip_freeze_writes_for_a_local_wheel(line: str) -> None:
    assert offending_lines(line) == [line]


def test_every_constraint_is_a_pinned_registry_name() -> None:
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==[\w.+!-]+", line), line


def test_every_package_folder_is_in_the_wheel() -> None:
    """pyproject lists packages one by one (config/ and dashboards/ are mapped into the
    wheel), so a new sub-package must be added there or it is missing when installed."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    listed = set(tool["setuptools"]["packages"])
    mapped = tool["setuptools"]["package-dir"]
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("pipelines", "workers")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert on_disk | set(mapped) == listed
    for package, folder in mapped.items():
        assert (ROOT / folder / "__init__.py").is_file(), package
