"""Inspection throughput on one core, against a naive baseline.

    python benchmarks/run.py [--calls N] [--seconds S] [--profile]

Builds a fixed set (seeded) of realistic five-minute voice calls of about 40 turns whose agent
turns are real JD.com agent replies (see ``calls.py``), then times, in this one process:

1. ``Inspector.inspect(call)`` over all calls with the full default rulebook (the main figure;
   building the Transcript objects is not timed);
2. the end-to-end path: ``parse_text(jsonl, fmt="jsonl")`` of the same calls as JSON Lines text,
   then ``inspect`` each;
3. the naive baseline on the same calls: one compiled regular expression per forbidden phrase,
   searched over every agent turn. It checks one rule (exact wording only); kefu checks them all;
4. for a like-for-like comparison, kefu with only the ``forbidden_phrase`` rule enabled (tolerant
   matching, polite exceptions, evidence and scorecard included).

Each figure is repeated (at least three times, more while ``--seconds`` lasts) after a warm-up,
with the garbage collector off; best and median are reported. Always exits 0: a benchmark
reports, it does not fail.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calls import JDDC, build_calls
from kefu.inspection.engine import Inspector
from kefu.inspection.parsers import parse_text
from kefu.inspection.transcript import Speaker, Transcript
from kefu.rulebook.loader import load_rulebook
from kefu.rulebook.schema import Rulebook

TARGET = 2000.0  # SPEC: calls per second per core
MAX_REPEATS = 50


def naive_checker(rulebook: Rulebook) -> Callable[[Transcript], int]:
    """One regex per forbidden phrase over every agent turn: the obvious implementation."""
    patterns = [re.compile(re.escape(e.text)) for e in rulebook.phrase_sets["forbidden"].entries]

    def check(call: Transcript) -> int:
        hits = 0
        for turn in call.turns:
            if turn.speaker is Speaker.AGENT:
                text = turn.text
                for pattern in patterns:
                    if pattern.search(text):
                        hits += 1
        return hits

    return check


def measure(run: Callable[[], object], seconds: float) -> list[float]:
    """Wall times of ``run()``: at least three, more while ``seconds`` last (GC off)."""
    times: list[float] = []
    spent = 0.0
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        while len(times) < 3 or (spent < seconds and len(times) < MAX_REPEATS):
            began = time.perf_counter()
            run()
            elapsed = time.perf_counter() - began
            times.append(elapsed)
            spent += elapsed
            gc.enable()  # collect between repetitions, never inside one
            gc.collect()
            gc.disable()
    finally:
        if enabled:
            gc.enable()
    return times


def rates(times: list[float], n: int) -> tuple[float, float]:
    return n / min(times), n / statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="number of calls (default 2000)")
    parser.add_argument(
        "--seconds", type=float, default=5.0,
        help="keep repeating each measurement while this many seconds last (default 5)",
    )
    parser.add_argument("--profile", action="store_true",
                        help="also print the top 15 functions by own time (cProfile)")
    args = parser.parse_args(argv)
    if not JDDC.exists():
        print(f"benchmark needs the real agent replies at {JDDC} (shared/data next to the repo)")
        return 0

    rulebook = load_rulebook()
    began = time.perf_counter()
    inspector = Inspector(rulebook)
    compile_ms = (time.perf_counter() - began) * 1000
    calls = build_calls(rulebook, args.calls)
    n = len(calls)
    jsonl = "\n".join(call.model_dump_json(exclude_none=True) for call in calls) + "\n"
    naive = naive_checker(rulebook)
    only_forbidden = Inspector(
        rulebook.model_copy(
            update={"rules": [r for r in rulebook.rules if r.id == "forbidden_phrase"]}
        )
    )

    # Warm-up (and the figures that show the engine did real work).
    reports = [inspector.inspect(call) for call in calls]
    parsed = parse_text(jsonl, "<bench>", fmt="jsonl")
    assert all(item.transcript is not None for item in parsed), "generated calls must parse"
    naive_hits = sum(naive(call) for call in calls)

    def run_kefu() -> None:
        for call in calls:
            inspector.inspect(call)

    def run_end_to_end() -> None:
        for item in parse_text(jsonl, "<bench>", fmt="jsonl"):
            inspector.inspect(item.transcript)  # type: ignore[arg-type]

    def run_naive() -> None:
        for call in calls:
            naive(call)

    def run_one_rule() -> None:
        for call in calls:
            only_forbidden.inspect(call)

    kefu_times = measure(run_kefu, args.seconds)
    e2e_times = measure(run_end_to_end, args.seconds)
    naive_times = measure(run_naive, args.seconds)
    one_rule_times = measure(run_one_rule, args.seconds)
    kefu_best, kefu_median = rates(kefu_times, n)
    e2e_best, e2e_median = rates(e2e_times, n)
    naive_best, naive_median = rates(naive_times, n)
    one_best, one_median = rates(one_rule_times, n)

    turns = sum(len(c.turns) for c in calls) / n
    minutes = statistics.mean(c.turns[-1].end or 0.0 for c in calls) / 60
    findings = Counter(f.rule for r in reports for f in r.findings)
    forbidden_calls = sum(any(f.rule == "forbidden_phrase" for f in r.findings) for r in reports)
    cpu = platform.processor() or platform.machine()
    print(f"kefu inspection benchmark — {date.today()}, Python {platform.python_version()}, "
          f"{cpu}, {os.cpu_count()} cores visible, one process")
    print(f"{n} calls, {turns:.1f} turns and {minutes:.1f} min on average; "
          f"{len(jsonl.encode()) / 1e6:.1f} MB as JSON Lines; rulebook {rulebook.version}: "
          f"{len(inspector.rules)} rules, compiled in {compile_ms:.0f} ms")
    print(f"repeats: kefu {len(kefu_times)}, end-to-end {len(e2e_times)}, "
          f"baseline {len(naive_times)}, one rule {len(one_rule_times)}\n")
    rows = [
        ("kefu inspect (all rules)", kefu_best, kefu_median),
        ("kefu parse JSONL + inspect", e2e_best, e2e_median),
        ("baseline: 1 regex per 禁语", naive_best, naive_median),
        ("kefu forbidden_phrase only", one_best, one_median),
    ]
    print(f"{'':28}{'best calls/s':>14}{'median calls/s':>16}{'µs/call (best)':>16}")
    for name, best, median in rows:
        print(f"{name:28}{best:>14,.0f}{median:>16,.0f}{1e6 / best:>16,.0f}")
    verdict = "PASS" if kefu_best >= TARGET else "BELOW"
    print(f"\nratio kefu/baseline (best): {kefu_best / naive_best:.2f}  "
          f"(baseline checks 1 rule, kefu {len(inspector.rules)}); "
          f"same rule only: {one_best / naive_best:.2f}")
    print(f"SPEC target {TARGET:,.0f} calls/s per core: {verdict} "
          f"(kefu best {kefu_best:,.0f}, median {kefu_median:,.0f}; "
          f"end-to-end best {e2e_best:,.0f})")
    print(f"\nfindings per call: {sum(findings.values()) / n:.2f}; calls with a 禁语 finding: "
          f"{forbidden_calls} (baseline found {naive_hits} exact 禁语 hits)")
    print("top rules fired: " + ", ".join(f"{rule} {count}" for rule, count in
                                            findings.most_common(5)))

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run_kefu()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
        stats.print_stats(15)
        print(f"\ncProfile of one pass over {n} calls (inspect only), top 15 by tottime:")
        print(out.getvalue().strip().split("\n", 2)[-1].strip("\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
