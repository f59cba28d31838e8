"""How many agents an interval needs: Erlang C (callers wait as long as it takes) and Erlang A
(M/M/n+M: callers give up after an exponential patience), exact for any size.

Units are seconds throughout: ``calls`` arrive in an interval of ``interval`` seconds, each takes
``aht`` seconds of handling (talk + hold + after-call work), ``within`` is the answer-time target
of the service level (seed 003: 85% within 20 s) and ``patience`` the callers' mean patience. ASA
is the average speed of answer of the answered calls, a result — never the target.

No factorials: the Erlang B recursion ``B(k) = a·B(k−1) / (k + a·B(k−1))`` stays in [0, 1] for
any number of agents. Erlang A follows Mandelbaum & Zeltyn ("Service engineering in action:
the Palm/Erlang-A queue", 2007): with ``x = nμ/θ`` and ``y = λ/θ``, an arrival that finds ``j``
callers waiting reaches an agent after ``V = −ln(B)/θ`` with ``B ~ Beta(x, j+1)`` (the sum of
exponentials of rates ``θ(x+i)``), and is served if its own patience lasts, so
``P(served within t | j) = E[B; B ≥ e^{−θt}] = x/(x+j+1) · (1 − I(e^{−θt}; x+1, j+1))`` — the
regularized incomplete beta function of scipy, no alternating sums.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# A probability of waiting this small ends the sum over the callers waiting ahead.
NEGLIGIBLE = 1e-15


@dataclass(frozen=True)
class Load:
    """One interval's demand."""

    calls: float
    interval: float = 1800.0  # seconds
    aht: float = 180.0  # seconds
    patience: float | None = None  # seconds, mean; None: Erlang C (nobody gives up)

    def __post_init__(self) -> None:
        if self.calls < 0 or self.interval <= 0 or self.aht <= 0:
            raise ValueError("来电量不能为负,时段长度和平均处理时长应为正数")
        if self.patience is not None and self.patience <= 0:
            raise ValueError("平均耐心时长应为正数")

    @property
    def rate(self) -> float:
        """Calls per second."""
        return self.calls / self.interval

    @property
    def erlangs(self) -> float:
        """The traffic: agents kept busy on average if every call is answered."""
        return self.rate * self.aht


@dataclass(frozen=True)
class Result:
    agents: int
    service_level: float  # answered within ``within`` seconds, of all offered calls
    asa: float  # seconds, mean wait of the answered calls
    occupancy: float  # share of the agents' time spent handling
    waiting: float  # probability that a call waits at all
    abandoned: float  # probability that a caller gives up (0 under Erlang C)


def erlang_b(agents: int, erlangs: float) -> float:
    """Blocking probability of ``agents`` lines under ``erlangs`` of traffic (stable recursion)."""
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = erlangs * blocking / (k + erlangs * blocking)
    return blocking


def erlang_c(load: Load, agents: int, within: float) -> Result:
    a = load.erlangs
    if a == 0:
        return Result(agents, 1.0, 0.0, 0.0, 0.0, 0.0)
    if agents <= a:  # the queue grows without end: no call is answered in time
        return Result(agents, 0.0, math.inf, 1.0, 1.0, 0.0)
    b = erlang_b(agents, a)
    waiting = agents * b / (agents - a * (1 - b))
    return Result(
        agents=agents,
        service_level=1 - waiting * math.exp(-(agents - a) * within / load.aht),
        asa=waiting * load.aht / (agents - a),
        occupancy=a / agents,
        waiting=waiting,
        abandoned=0.0,
    )


def erlang_a(load: Load, agents: int, within: float) -> Result:
    from scipy.special import betainc  # here: a web worker that never staffs never loads scipy

    assert load.patience is not None
    a, theta = load.erlangs, 1 / load.patience
    if a == 0:
        return Result(agents, 1.0, 0.0, 0.0, 0.0, 0.0)
    mu = 1 / load.aht
    x, y = agents * mu / theta, load.rate / theta
    # Callers waiting ahead of an arrival that waits: q_j ∝ Π_{i=1..j} y/(x+i), summed until negligible.
    weights, total = [1.0], 1.0
    while weights[-1] > NEGLIGIBLE * total or len(weights) <= y - x:
        weights.append(weights[-1] * y / (x + len(weights)))
        total += weights[-1]
    q = np.array(weights) / total
    j = np.arange(len(q))
    b = erlang_b(agents, a)
    waiting = b * total / (1 + b * (total - 1))  # P(all agents busy) on arrival
    served_if_waiting = x / (x + j + 1)  # E[B]: reaching an agent before giving up
    in_time = served_if_waiting * (1 - betainc(x + 1, j + 1, math.exp(-theta * within)))
    served = (1 - waiting) + waiting * float(q @ served_if_waiting)
    # Mean wait of those served: E[V·e^{−θV}] = E[B]·(ψ(x+j+2) − ψ(x+1))/θ, the digamma difference a sum.
    harmonic = np.cumsum(1 / (x + j + 1))
    wait_of_served = waiting * float(q @ (served_if_waiting * harmonic)) / theta
    return Result(
        agents=agents,
        service_level=(1 - waiting) + waiting * float(q @ in_time),
        asa=wait_of_served / served,
        occupancy=min(1.0, a * served / agents),
        waiting=waiting,
        abandoned=1 - served,
    )


def evaluate(load: Load, agents: int, within: float) -> Result:
    """The figures of ``agents`` on the phone: Erlang A when the load has a patience, else C."""
    if agents < 1:
        raise ValueError("坐席数至少为 1")
    return erlang_a(load, agents, within) if load.patience is not None else erlang_c(load, agents, within)


def required(load: Load, target: float = 0.85, within: float = 20.0, max_agents: int = 100_000) -> Result:
    """The fewest agents on the phone whose service level reaches ``target``. The search starts
    at one agent, not at the traffic: with abandonment fewer agents than the traffic can reach
    the target (pyworkforce's Erlang A starts at the traffic and overstaffs)."""
    if not 0 < target < 1:
        raise ValueError("服务水平目标应在 0 与 1 之间")
    if within < 0:
        raise ValueError("接听时限不能为负")
    if load.calls == 0:
        return evaluate(load, 1, within)
    low, high = 1, max(1, math.ceil(load.erlangs)) + 1
    while evaluate(load, high, within).service_level < target:  # the service level rises with agents
        low, high = high, high * 2
        if high > max_agents:
            raise ValueError(f"需要超过 {max_agents} 名坐席,请检查来电量与处理时长")
    while low < high:
        middle = (low + high) // 2
        if evaluate(load, middle, within).service_level >= target:
            high = middle
        else:
            low = middle + 1
    return evaluate(load, high, within)


def on_roster(agents: int, shrinkage: float) -> int:
    """Agents on the phone → agents on the roster: shrinkage (breaks, training, leave) is the
    share of paid time not on the phone."""
    if not 0 <= shrinkage < 1:
        raise ValueError("缺勤与非话务时间占比应在 0 与 1 之间")
    return math.ceil(agents / (1 - shrinkage) - 1e-9)
