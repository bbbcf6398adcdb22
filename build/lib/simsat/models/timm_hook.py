"""Registration of simsat's students in timm's model registry, done when timm is imported.

`import simsat` must stay light (no torch, no timm), yet `timm.create_model("resnet8")` must work
after it. So `import simsat` calls :func:`register_when_timm_imported`: where timm is already
loaded the students are registered at once; otherwise a finder on ``sys.meta_path`` waits for
timm's own import, lets it finish, removes itself and registers the students. A mere look-up
(`importlib.util.find_spec("timm")`) leaves it in place.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)

TIMM = "timm"


def register_students_in_timm() -> None:
    """Register every simsat student in timm's registry; calling it again is a no-op.

    A foreign timm model of the same name (none in timm 1.0.x) is replaced with a warning.
    """
    from timm.models import is_model, model_entrypoint, register_model

    from simsat.models.resnet import STUDENT_FACTORIES

    for name, factory in STUDENT_FACTORIES.items():
        if is_model(name):
            if model_entrypoint(name) is factory:
                continue
            logger.warning("timm already has a model named %r; replacing it with simsat's", name)
        register_model(factory)


class _RegisterAfterExec(importlib.abc.Loader):
    """Runs timm's own loader, then registers the students; restores timm's loader on the module."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, TimmImportHook)]
        register_students_in_timm()

    def __getattr__(self, name: str) -> Any:  # resource readers, get_source, ...
        return getattr(self._loader, name)


class TimmImportHook(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader that the other finders give for `timm`, once."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != TIMM:
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None  # timm is not installed: the import fails as it would without simsat
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _RegisterAfterExec(spec.loader)
        return spec


def register_when_timm_imported() -> None:
    """Register the students now if timm is loaded, else as soon as something imports it."""
    if TIMM in sys.modules:
        register_students_in_timm()
        return
    if not any(isinstance(finder, TimmImportHook) for finder in sys.meta_path):
        sys.meta_path.insert(0, TimmImportHook())
