"""Battery with solar input, bus baseline and named loads, integrated in a SimPy process."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Generator

import simpy

from simsat.errors import ConfigError
from simsat.world import _validate as v

log = logging.getLogger(__name__)

SOC_TOLERANCE = 1e-9
"""State-of-charge watchers fire within this tolerance of their threshold."""


class Battery:
    """Energy store in watt-hours, integrated in simulated time.

    A process integrates net power (``solar_w`` times ``sunlit(t)``, minus the baseline bus
    load, minus the named extra loads) piecewise: every ``step_s``, at each load change and at
    predicted state-of-charge thresholds, so ``wait_for_soc`` fires on time. ``sunlit(t)`` is a
    bool or the fraction of ``solar_w`` available at ``t`` (shadow depth, panel incidence),
    sampled at the midpoint of each piece. The level is clipped to [0, capacity]; energy that
    does not fit is counted in ``wasted_wh``. ``floor_soc`` is advisory (used by compute).

    Safe mode: when the state of charge falls to ``safe_soc`` the satellite enters safe mode
    (recorded in ``safe_events``): every extra load whose name does not start with one of
    ``essential_prefixes`` is shed (it draws nothing, and later loads of that kind are held
    back) and the bus drops to ``safe_baseline_w``. It leaves safe mode once the state of
    charge is back at ``safe_exit_soc``, and held-back loads resume. Demand an empty battery
    still cannot meet (the bus in a long eclipse) is tallied in ``unmet_wh``.
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
        sunlit: Callable[[float], float],
        step_s: float = 30.0,
        prefix: str = "power",
        safe_soc: float = 0.0,
        safe_exit_soc: float | None = None,
        safe_baseline_w: float | None = None,
        essential_prefixes: tuple[str, ...] = ("radio",),
    ) -> None:
        self.capacity_wh = v.positive(f"{prefix}.capacity_wh", capacity_wh)
        initial = v.in_range(f"{prefix}.initial_soc", initial_soc, 0.0, 1.0)
        self.floor_soc = v.number(f"{prefix}.floor_soc", floor_soc)
        if not 0.0 <= self.floor_soc < 1.0:
            raise ConfigError(f"{prefix}.floor_soc must be in [0, 1), got {self.floor_soc}")
        self.solar_w = v.non_negative(f"{prefix}.solar_w", solar_w)
        self.baseline_w = v.non_negative(f"{prefix}.baseline_w", baseline_w)
        self.step_s = v.positive(f"{prefix}.step_s", step_s)
        self.safe_soc = v.in_range(f"{prefix}.safe_soc", safe_soc, 0.0, 1.0)
        exit_soc = max(self.floor_soc, self.safe_soc + 0.05) if safe_exit_soc is None else safe_exit_soc
        self.safe_exit_soc = v.in_range(f"{prefix}.safe_exit_soc", exit_soc, 0.0, 1.0)
        if self.safe_exit_soc <= self.safe_soc:
            raise ConfigError(f"{prefix}.safe_exit_soc must be > safe_soc ({self.safe_soc}), got {self.safe_exit_soc}")
        safe_bus = self.baseline_w if safe_baseline_w is None else safe_baseline_w
        self.safe_baseline_w = v.non_negative(f"{prefix}.safe_baseline_w", safe_bus)
        self.essential_prefixes = tuple(essential_prefixes)
        self.safe_mode = False
        self.safe_events: list[tuple[float, str]] = []
        self._safe_closed_s = 0.0  # safe-mode time of the stretches already left
        self._safe_since = 0.0
        self._held: dict[str, float] = {}
        self._prefix = prefix
        self.env = env
        self.sunlit = sunlit
        # stored energy (Wh); updated as simpy.Container would (level += amount / -= amount),
        # without an event per update: nothing waits on the store itself
        self._level = float(initial * self.capacity_wh)
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
        if initial <= self.safe_soc + SOC_TOLERANCE:
            self._enter_safe()
        self.process = env.process(self._run())

    # ----- state -----
    @property
    def level_wh(self) -> float:
        """Stored energy now."""
        self._settle()
        return self._level

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
        """Start drawing ``watts`` under ``name``; an existing load of that name is replaced.

        In safe mode a non-essential load is held back (draws nothing) until safe mode ends.
        """
        power = v.non_negative(f"{self._prefix}.loads.{name}", watts)
        self._settle()
        self._energy.setdefault(name, 0.0)
        if self.safe_mode and not self._essential(name):
            self._held[name] = power
            return
        self._loads[name] = power
        self._changed()

    def remove_load(self, name: str) -> None:
        """Stop the load ``name`` (no effect if it is not drawing)."""
        self._settle()
        self._held.pop(name, None)
        if self._loads.pop(name, None) is not None:
            self._changed()

    def _essential(self, name: str) -> bool:
        return any(name.startswith(p) for p in self.essential_prefixes)

    @property
    def safe_s(self) -> float:
        """Seconds spent in safe mode so far, the stretch in progress (if any) up to now included."""
        open_s = float(self.env.now) - self._safe_since if self.safe_mode else 0.0
        return self._safe_closed_s + open_s

    def resume_threshold(self, soc: float) -> float:
        """The state of charge a paused load should wait for: ``soc``, or the safe-mode exit if higher."""
        return max(soc, self.safe_exit_soc) if self.safe_mode else soc

    def _enter_safe(self) -> None:
        now = float(self.env.now)
        self.safe_mode = True
        self._safe_since = now
        self.safe_events.append((now, "enter"))
        log.info("safe mode at t=%.0f s (soc %.3f): non-essential loads shed", now, self.soc)
        for name in [n for n in self._loads if not self._essential(n)]:
            self._held[name] = self._loads.pop(name)

    def _leave_safe(self) -> None:
        now = float(self.env.now)
        self.safe_mode = False
        self._safe_closed_s += now - self._safe_since
        self.safe_events.append((now, "exit"))
        self._loads.update(self._held)
        self._held.clear()

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
    @property
    def bus_w(self) -> float:
        """Bus power now (the safe-mode bus while in safe mode)."""
        return self.safe_baseline_w if self.safe_mode else self.baseline_w

    def _solar(self, t: float) -> float:
        return self.solar_w * max(0.0, float(self.sunlit(t)))

    def _net_w(self, t: float) -> float:
        return self._solar(t) - self.bus_w - sum(self._loads.values())

    def _settle(self) -> None:
        now = float(self.env.now)
        dt = now - self._last
        if dt <= 0.0:
            return
        hours = dt / 3600.0
        solar = self._solar(self._last + 0.5 * dt)
        bus = self.bus_w
        self.solar_in_wh += solar * hours
        self.baseline_wh += bus * hours
        for name, watts in self._loads.items():
            self._energy[name] += watts * hours
        level = self._level
        target = level + (solar - bus - sum(self._loads.values())) * hours
        new = min(max(target, 0.0), self.capacity_wh)
        self.wasted_wh += max(target - self.capacity_wh, 0.0)
        self.unmet_wh += max(-target, 0.0)
        if new > level:
            self._level += new - level
        elif new < level:
            self._level -= level - new
        self._last = now

    def _record(self) -> None:
        point = (float(self.env.now), self._level / self.capacity_wh)
        if self.history and self.history[-1][0] == point[0]:
            self.history[-1] = point
        else:
            self.history.append(point)

    def _fire_watchers(self) -> None:
        soc = self._level / self.capacity_wh
        if not self.safe_mode and soc <= self.safe_soc + SOC_TOLERANCE:
            self._enter_safe()
        elif self.safe_mode and soc >= self.safe_exit_soc - SOC_TOLERANCE:
            self._leave_safe()
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
        level = self._level
        rising = [target for target, _ in self._rising] + ([self.safe_exit_soc] if self.safe_mode else [])
        falling = [target for target, _ in self._falling] + ([] if self.safe_mode else [self.safe_soc])
        if net > 0.0:
            for target in rising:
                if target * self.capacity_wh > level:
                    delay = min(delay, (target * self.capacity_wh - level) * 3600.0 / net)
        elif net < 0.0:
            for target in falling:
                if target * self.capacity_wh < level:
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
