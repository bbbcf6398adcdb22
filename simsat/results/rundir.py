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
        missing = [p for p in (output_dir, *output_dir.parents) if not p.exists()]
        self._created = missing[-1] if missing else None  # the top folder this run creates
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
        """Remove the unfinished folder, and the output folders this run created if now empty."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._created is not None:
            for folder in (self.path.parent, *self.path.parent.parents):
                if folder == self._created.parent:
                    break
                try:
                    folder.rmdir()
                except OSError:
                    break
