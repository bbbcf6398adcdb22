"""The ground's learning off the mission's critical path.

Refining an aggregated student, the `ground` strategy's training and scoring a new global
student take real seconds; the mission needs their results only later in simulated time (a
trained student when it is next uplinked, a score when the metrics are written). `GroundWorker`
runs them on one thread of their own, in the order they were asked for, while the mission goes
on (torch releases the GIL, so this is real parallel work with the satellites' trainings and the
ground's labelling). A student in the making is a `PendingModel`: it counts as the global student
at once (its byte size is known from its architecture) and waits for its values only when they
are read.

Results do not depend on the thread: each job gets the same inputs as when it ran in place,
and nothing it computes draws from a random state another thread changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from simsat.mission.packets import ModelArrays

T = TypeVar("T")
Signature = tuple[tuple[str, tuple[int, ...], str], ...]


def model_signature(model: ModelArrays) -> Signature:
    """Names, shapes and dtypes of a student's arrays (what its serialised size depends on)."""
    if isinstance(model, PendingModel):
        return model.signature
    return tuple((name, tuple(value.shape), value.dtype.str) for name, value in model.items())


class GroundWorker:
    """One thread running the ground's jobs in order (`threaded` False: each runs when asked)."""

    def __init__(self, threaded: bool = True) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simsat-ground") if threaded else None

    def submit(self, job: Callable[[], T]) -> Future[T]:
        if self._pool is not None:
            return self._pool.submit(job)
        future: Future[T] = Future()
        try:
            future.set_result(job())
        except BaseException as exc:  # raised again where the result is read, as the thread's would be
            future.set_exception(exc)
        return future

    def close(self, cancel: bool = False) -> None:
        """Stop taking jobs; wait for the one running (`cancel`: drop those not started)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)


class PendingModel(dict[str, np.ndarray]):
    """A student being computed by a `GroundWorker` job: any read waits for it."""

    def __init__(self, future: Future[ModelArrays], like: ModelArrays) -> None:
        super().__init__()
        self._future = future
        self.signature = model_signature(like)
        self._ready = False

    def resolve(self) -> PendingModel:
        if not self._ready:
            dict.update(self, self._future.result())
            self._ready = True
        return self

    def __getitem__(self, key: str) -> np.ndarray:
        return dict.__getitem__(self.resolve(), key)

    def __iter__(self) -> Iterator[str]:
        return dict.__iter__(self.resolve())

    def __len__(self) -> int:
        return dict.__len__(self.resolve())

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self.resolve(), key)

    def keys(self) -> Any:
        return dict.keys(self.resolve())

    def values(self) -> Any:
        return dict.values(self.resolve())

    def items(self) -> Any:
        return dict.items(self.resolve())

    def get(self, key: str, default: Any = None) -> Any:
        return dict.get(self.resolve(), key, default)

    def copy(self) -> dict[str, np.ndarray]:
        return dict(dict.items(self.resolve()))

    def __eq__(self, other: object) -> bool:
        return dict.__eq__(self.resolve(), other)

    __hash__ = None  # mutable, as a dict

    def __repr__(self) -> str:
        return f"PendingModel(ready={self._ready or self._future.done()})"
