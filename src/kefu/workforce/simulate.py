"""A week of the queue itself, to cross-check the staffing that Erlang computes interval by
interval: calls arrive at each interval's rate, wait first come first served for one of the
agents on duty in that interval, give up after their patience — and whoever still waits at the
end of an interval carries over into the next, which Erlang's steady state ignores.

Plain Python with a heap of agents' free times: the next caller goes to the first agent free,
and a caller whose wait would exceed their patience leaves without taking anyone's time."""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from kefu.workforce.erlang import Load


@dataclass(frozen=True)
class Simulated:
    offered: int
    in_time: int  # answered within ``within``
    abandoned: int

    @property
    def service_level(self) -> float:
        return self.in_time / self.offered if self.offered else 1.0


def simulate(loads: Sequence[Load], agents: Sequence[int], within: float, seed: int = 0) -> list[Simulated]:
    """Each interval's outcome, by the interval the call arrived in. ``agents[i]`` are on duty in
    interval ``i``; an agent leaving at an interval's end finishes the call in hand."""
    if len(loads) != len(agents):
        raise ValueError("每个时段都要有在线坐席数")
    rng = random.Random(seed)
    out = []
    start = 0.0
    free: list[float] = []  # when each agent on duty is next free
    for load, staff in zip(loads, agents, strict=True):
        end = start + load.interval
        # Agents joining start free at the interval's start; agents leaving are the ones free soonest.
        free = sorted(free)
        if len(free) > staff:
            free = free[len(free) - staff :]
        free += [start] * (staff - len(free))
        heapq.heapify(free)
        offered = in_time = abandoned = 0
        clock = start
        while load.rate > 0:
            clock += rng.expovariate(load.rate)
            if clock >= end:
                break
            offered += 1
            begin = max(clock, free[0]) if free else math.inf
            patience = rng.expovariate(1 / load.patience) if load.patience else math.inf
            if begin - clock > patience:
                abandoned += 1
                continue
            heapq.heapreplace(free, begin + rng.expovariate(1 / load.aht))
            in_time += begin - clock <= within
        out.append(Simulated(offered, in_time, abandoned))
        start = end
    return out
