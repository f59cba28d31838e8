"""Staffing a week: 336 half-hour intervals of a 1,000-seat centre, by kefu (Erlang C, and
Erlang A with a 120 s patience) and by pyworkforce's Erlang C, measured in the same run.

    python benchmarks/staffing.py            # needs pip install -e '.[bench]' for pyworkforce

Prints the seconds for the week (best of ``--rounds``), the ratio to pyworkforce, and whether
both Erlang C agree interval by interval. Always exits 0: a benchmark reports, it does not fail.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

from kefu.workforce.erlang import Load, required

INTERVALS = 336  # a week of half hours
AHT = 240.0
TARGET, WITHIN = 0.85, 20.0


def week(peak_agents: int) -> list[float]:
    """Calls per half hour: a morning and an afternoon peak that keep about ``peak_agents`` busy,
    quieter weekends, a little traffic at night."""
    peak_calls = peak_agents * 0.95 * 1800 / AHT
    out = []
    for i in range(INTERVALS):
        day, hour = divmod(i, 48)
        h = hour / 2
        shape = math.exp(-((h - 10.5) ** 2) / 6) + 0.85 * math.exp(-((h - 15.5) ** 2) / 5) + 0.03
        out.append(peak_calls * shape * (0.6 if day >= 5 else 1.0))
    return out


def best_of(rounds: int, work: Callable[[], list[int]]) -> tuple[float, list[int]]:
    times, result = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    calls = week(args.seats)
    print(f"staffing a week: {INTERVALS} half hours, up to {max(calls):,.0f} calls per half hour, AHT {AHT:g} s, "
          f"{TARGET:.0%} within {WITHIN:g} s")  # fmt: skip

    def kefu_c() -> list[int]:
        return [required(Load(c, 1800, AHT), TARGET, WITHIN).agents for c in calls]

    def kefu_a() -> list[int]:
        return [required(Load(c, 1800, AHT, 120.0), TARGET, WITHIN).agents for c in calls]

    c_seconds, c_agents = best_of(args.rounds, kefu_c)
    a_seconds, a_agents = best_of(args.rounds, kefu_a)
    print(f"  kefu Erlang C            {c_seconds:7.3f} s   peak {max(c_agents)} agents")
    print(f"  kefu Erlang A (120 s)    {a_seconds:7.3f} s   peak {max(a_agents)} agents")
    try:
        from pyworkforce.queuing import ErlangC
    except ImportError:
        print("  pyworkforce is not installed (pip install -e '.[bench]'): no comparison")
        return 0

    def theirs() -> list[int]:
        # pyworkforce takes minutes, and calls the answer-time target "asa".
        return [
            ErlangC(transactions=c, aht=AHT / 60, asa=WITHIN / 60, interval=30).required_positions(TARGET, 1.0)[
                "raw_positions"
            ]
            for c in calls
        ]

    try:
        p_seconds, p_agents = best_of(args.rounds, theirs)
    except (OverflowError, ValueError) as error:  # factorials of a thousand agents
        print(f"  pyworkforce Erlang C     failed: {type(error).__name__}: {error}")
        return 0
    differ = [i for i, (a, b) in enumerate(zip(c_agents, p_agents, strict=True)) if a != b]
    print(f"  pyworkforce Erlang C     {p_seconds:7.3f} s   peak {max(p_agents)} agents")
    print(f"kefu Erlang C = {c_seconds / p_seconds:.3f}× pyworkforce's time; "
          f"agents differ in {len(differ)} of {INTERVALS} intervals")  # fmt: skip
    for i in differ[:5]:
        print(f"  interval {i}: {calls[i]:.1f} calls → kefu {c_agents[i]}, pyworkforce {p_agents[i]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
