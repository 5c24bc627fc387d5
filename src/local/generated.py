"""Files generated from the code and checked in: written by a make target, or compared with
`--check` (their tests fail when a checked-in copy is stale)."""

from __future__ import annotations

from pathlib import Path

from local.template import PROJECT_ROOT


def write_or_check(path: Path, content: str, argv: list[str], target: str) -> int:
    name = path.relative_to(PROJECT_ROOT)
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if "--check" in argv:
        if current != content:
            print(f"{name} is stale: run `make {target}`")
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    print(f"wrote {name}")
    return 0
