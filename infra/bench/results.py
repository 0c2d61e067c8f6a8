"""The bench's figures as JSON (.bench/latest.json, git-ignored), so commits can be compared.

Each bench writes its own section; a section carries the commit and the moment it was measured.
"""

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / ".bench"
LATEST = BENCH_DIR / "latest.json"


def commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, a fixed command
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    head = result.stdout.strip() or "unknown"
    return f"{head}+changes" if dirty.stdout.strip() else head


def load(path: Path = LATEST) -> dict[str, Any]:
    if not path.is_file():
        return {}
    figures: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return figures


def record(section: str, figures: dict[str, Any], path: Path = LATEST, measured: str | None = None) -> Path:
    """Replace one section of the results file, keeping the others. `measured`: the commit the figures
    were measured on, when the tree may have changed while they were (default: the commit now)."""
    everything = load(path)
    everything[section] = {
        "commit": measured or commit(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **figures,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(everything, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
