"""Battery with solar input, bus baseline and named loads, integrated in a SimPy process."""

from __future__ import annotations

import logging
import math
from typing import Callable, Generator

import simpy

from simsat.errors import ConfigError
from simsat.world import _validate as v

log = logging.getLogger(__name__)

SOC_TOLERANCE = 1e-9
"""State-of-charge watchers fire within this tolerance of their threshold."""


class Battery:
    """Energy store in watt-hours held by a ``simpy.Container``.

    A process integrates net power (solar when ``sunlit(t)``, minus the baseline bus load,
    minus the named extra loads) piecewise: every ``step_s``, at each load change and at
    predicted state-of-charge thresholds, so ``wait_for_soc`` fires on time. Sunlight is
    sampled at the midpoint of each piece. The level is clipped to [0, capacity]; energy
    that does not fit is counted in ``wasted_wh`` and demand the empty battery cannot meet
    in ``unmet_wh``. ``floor_soc`` is advisory (used by compute); the bus never stops.
    The process runs until :meth:`stop`, so run the environment with ``until=``.
    """

    def __init__(
        self,
        env: simpy.Environment,
        capacity_wh: float,
        initial_soc: float,
        floor_soc: float,
        solar_w: float,
        baseline_w: float,
        sunlit: Callable[[float], bool],
        step_s: float = 30.0,
        prefix: str = "power",
    ) -> None:
        self.capacity_wh = v.positive(f"{prefix}.capacity_wh", capacity_wh)
        initial = v.in_range(f"{prefix}.initial_soc", initial_soc, 0.0, 1.0)
        self.floor_soc = v.number(f"{prefix}.floor_soc", floor_soc)
        if not 0.0 <= self.floor_soc < 1.0:
            raise ConfigError(f"{prefix}.floor_soc must be in [0, 1), got {self.floor_soc}")
        self.solar_w = v.non_negative(f"{prefix}.solar_w", solar_w)
        self.baseline_w = v.non_negative(f"{prefix}.baseline_w", baseline_w)
        self.step_s = v.positive(f"{prefix}.step_s", step_s)
        self._prefix = prefix
        self.env = env
        self.sunlit = sunlit
        self.container = simpy.Container(env, capacity=self.capacity_wh, init=initial * self.capacity_wh)
        self.history: list[tuple[float, float]] = [(float(env.now), initial)]
        self.solar_in_wh = 0.0
        self.baseline_wh = 0.0
        self.wasted_wh = 0.0
        self.unmet_wh = 0.0
        self._loads: dict[str, float] = {}
        self._energy: dict[str, float] = {}
        self._start = float(env.now)
        self._last = float(env.now)
        self._rising: list[tuple[float, simpy.Event]] = []
        self._falling: list[tuple[float, simpy.Event]] = []
        self._wake: simpy.Event = env.event()
        self._stopped = False
        self.process = env.process(self._run())

    # ----- state -----
    @property
    def level_wh(self) -> float:
        """Stored energy now."""
        self._settle()
        return float(self.container.level)

    @property
    def soc(self) -> float:
        """State of charge now, in [0, 1]."""
        return self.level_wh / self.capacity_wh

    @property
    def loads(self) -> dict[str, float]:
        """Current extra loads by name (watts)."""
        return dict(self._loads)

    @property
    def energy_used_wh(self) -> dict[str, float]:
        """Energy drawn so far by each named load (demand, including any unmet part)."""
        self._settle()
        return dict(self._energy)

    # ----- loads -----
    def add_load(self, name: str, watts: float) -> None:
        """Start drawing ``watts`` under ``name``; an existing load of that name is replaced."""
        power = v.non_negative(f"{self._prefix}.loads.{name}", watts)
        self._settle()
        self._loads[name] = power
        self._energy.setdefault(name, 0.0)
        self._changed()

    def remove_load(self, name: str) -> None:
        """Stop the load ``name`` (no effect if it is not drawing)."""
        self._settle()
        if self._loads.pop(name, None) is not None:
            self._changed()

    # ----- waiting -----
    def wait_for_soc(self, soc: float) -> simpy.Event:
        """Event that fires once the state of charge is >= ``soc`` (at once if already)."""
        return self._watch(soc, rising=True)

    def wait_for_soc_below(self, soc: float) -> simpy.Event:
        """Event that fires once the state of charge is <= ``soc`` (at once if already)."""
        return self._watch(soc, rising=False)

    def cancel_wait(self, event: simpy.Event) -> None:
        """Forget a watcher event that is no longer needed (it will never fire)."""
        self._rising = [(s, e) for s, e in self._rising if e is not event]
        self._falling = [(s, e) for s, e in self._falling if e is not event]

    def _watch(self, soc: float, rising: bool) -> simpy.Event:
        target = v.in_range(f"{self._prefix}.soc threshold", soc, 0.0, 1.0)
        event = self.env.event()
        (self._rising if rising else self._falling).append((target, event))
        self._settle()
        self._fire_watchers()
        self._poke()
        return event

    def stop(self) -> None:
        """Settle now and end the integration process (so ``env.run()`` can run dry)."""
        self._settle()
        self._record()
        self._stopped = True
        self._poke()

    # ----- integration -----
    def _net_w(self, t: float) -> float:
        solar = self.solar_w if self.sunlit(t) else 0.0
        return solar - self.baseline_w - sum(self._loads.values())

    def _settle(self) -> None:
        now = float(self.env.now)
        dt = now - self._last
        if dt <= 0.0:
            return
        hours = dt / 3600.0
        solar = self.solar_w if self.sunlit(self._last + 0.5 * dt) else 0.0
        self.solar_in_wh += solar * hours
        self.baseline_wh += self.baseline_w * hours
        for name, watts in self._loads.items():
            self._energy[name] += watts * hours
        level = float(self.container.level)
        target = level + (solar - self.baseline_w - sum(self._loads.values())) * hours
        new = min(max(target, 0.0), self.capacity_wh)
        self.wasted_wh += max(target - self.capacity_wh, 0.0)
        self.unmet_wh += max(-target, 0.0)
        if new > level:
            event = self.container.put(new - level)
        elif new < level:
            event = self.container.get(level - new)
        else:
            event = None
        if event is not None and not event.triggered:  # pragma: no cover - guarded by the clip
            log.warning("battery container update of %s Wh did not apply", new - level)
        self._last = now

    def _record(self) -> None:
        point = (float(self.env.now), float(self.container.level) / self.capacity_wh)
        if self.history and self.history[-1][0] == point[0]:
            self.history[-1] = point
        else:
            self.history.append(point)

    def _fire_watchers(self) -> None:
        soc = float(self.container.level) / self.capacity_wh
        keep_r = []
        for target, event in self._rising:
            if soc >= target - SOC_TOLERANCE:
                event.succeed(soc)
            else:
                keep_r.append((target, event))
        keep_f = []
        for target, event in self._falling:
            if soc <= target + SOC_TOLERANCE:
                event.succeed(soc)
            else:
                keep_f.append((target, event))
        self._rising, self._falling = keep_r, keep_f

    def _changed(self) -> None:
        self._record()
        self._fire_watchers()
        self._poke()

    def _poke(self) -> None:
        if not self._wake.triggered:
            self._wake.succeed()

    def _next_delay(self) -> float:
        now = float(self.env.now)
        steps_done = math.floor((now - self._start) / self.step_s + 1e-9)
        delay = self._start + (steps_done + 1) * self.step_s - now
        net = self._net_w(now)
        level = float(self.container.level)
        if net > 0.0:
            for target, _ in self._rising:
                delay = min(delay, (target * self.capacity_wh - level) * 3600.0 / net)
        elif net < 0.0:
            for target, _ in self._falling:
                delay = min(delay, (level - target * self.capacity_wh) * 3600.0 / -net)
        return max(delay, 1e-6)

    def _run(self) -> Generator[simpy.Event, object, None]:
        while not self._stopped:
            self._wake = self.env.event()
            yield self.env.timeout(self._next_delay()) | self._wake
            if self._stopped:
                break
            self._settle()
            self._record()
            self._fire_watchers()
