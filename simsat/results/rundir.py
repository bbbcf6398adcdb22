"""A run's output folder: written under a temporary name, renamed when the run succeeds."""

from __future__ import annotations

import shutil
import time
from pathlib import Path


class RunFolder:
    """`path` is where files go while running; `finish()` moves them to `final` atomically.

    A failed run calls `discard()`, so no half-written folder is left behind.
    """

    def __init__(self, output_dir: Path, name: str, seed: int) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = f"{name}-s{seed}-{stamp}"
        output_dir.mkdir(parents=True, exist_ok=True)
        final = output_dir / base
        counter = 1
        while final.exists() or final.with_name(final.name + ".partial").exists():
            counter += 1
            final = output_dir / f"{base}-{counter}"
        self.final = final
        self.path = final.with_name(final.name + ".partial")
        self.path.mkdir()

    def finish(self) -> Path:
        self.path.rename(self.final)
        return self.final

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
