"""Files that appear whole or not at all: write a temporary file in the same folder, then rename.

`os.replace` within one folder is atomic on POSIX and Windows, so a reader (or a run resumed
after a kill) sees either the previous file or the new one, never half of it. The data is
flushed to disk before the rename, so a power loss does not leave a renamed but empty file.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import IO, Any


def _file_mode() -> int:
    """The mode `open` would give a new file (mkstemp makes 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_MODE = _file_mode()
_DIR_MODE = _MODE | ((_MODE & 0o444) >> 2)  # the folder mode `mkdir` would give (x where r)


def write_with(path: Path | str, write: Callable[[IO[bytes]], object], durable: bool = True) -> Path:
    """Call `write(handle)` on a temporary binary file beside `path`, then rename it to `path`.

    The parent folder must exist. On any error the temporary file is removed and `path` is left
    as it was. `durable` False skips the flush to disk: the file is still whole or absent
    whatever kills the process, but a power loss may leave it empty or damaged (for files whose
    reader checks them, e.g. a run's journal). Returns `path`.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp, _MODE)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_bytes(path: Path | str, data: bytes, durable: bool = True) -> Path:
    """Write `data` to `path` atomically (`durable`: see `write_with`)."""
    return write_with(path, lambda handle: handle.write(data), durable)


def write_text(path: Path | str, text: str, encoding: str = "utf-8", durable: bool = True) -> Path:
    """Write `text` to `path` atomically (`durable`: see `write_with`)."""
    return write_bytes(path, text.encode(encoding), durable)


def json_safe(value: Any) -> Any:
    """A copy that strict JSON can hold: NaN and infinities become None, keys strings, tuples lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json(path: Path | str, payload: Any, durable: bool = True, **dumps: Any) -> Path:
    """Write `json.dumps(json_safe(payload), **dumps)` (indent 2 unless given) and a final newline
    atomically (`durable`: see `write_with`)."""
    dumps.setdefault("indent", 2)
    return write_text(path, json.dumps(json_safe(payload), **dumps) + "\n", durable=durable)


def _fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


@contextmanager
def staged_folder(
    folder: Path | str, hold: Callable[[], AbstractContextManager[object]] | None = None
) -> Iterator[Path]:
    """A temporary folder beside `folder` for the caller to write files into; when the block ends
    normally they appear in `folder` together (a new `folder` is one rename; into an existing one
    each file is renamed over its old version, under `hold()`, e.g. a signal deferral, so that the
    set is not broken off half-way). On any error or signal nothing appears: the temporary folder
    is removed, and so are the parent folders this call created."""
    target = Path(folder)
    created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        files = sorted(tmp.iterdir())
        for file in files:
            _fsync_file(file)
        with hold() if hold is not None else nullcontext():
            if not target.exists():
                os.chmod(tmp, _DIR_MODE)  # mkdtemp makes 0700
                os.replace(tmp, target)
            else:
                for file in files:
                    os.replace(file, target / file.name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for parent in created:  # innermost first
            with suppress(OSError):
                parent.rmdir()
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
