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

After a warm-up the four are timed in interleaved rounds (at least three, more while
``--seconds`` lasts), so that every figure sees the same load on a shared machine; the garbage
collector is off inside a timing. Best and median over the rounds are reported, from wall time
(``perf_counter``) and, as a check on a busy machine, from the process's CPU time. Always exits
0: a benchmark reports, it does not fail.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import os
import platform
import pstats
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calls import JDDC, build_calls
from kefu.inspection import engine
from kefu.inspection.engine import Inspector
from kefu.inspection.parsers import parse_text
from kefu.inspection.transcript import Speaker, Transcript
from kefu.inspection.view import MissingInput
from kefu.rulebook.loader import load_rulebook
from kefu.rulebook.schema import Rulebook
from kefu.text.normalize import FILLERS, normalize, simplify

TARGET = 2000.0  # SPEC: calls per second per core
MAX_ROUNDS = 50


def naive_checker(rulebook: Rulebook) -> Callable[[Transcript], list[str]]:
    """One regex per forbidden phrase over every agent turn: the obvious implementation."""
    patterns = [(e.text, re.compile(re.escape(e.text))) for e in rulebook.phrase_sets["forbidden"].entries]

    def check(call: Transcript) -> list[str]:
        hits = []
        for turn in call.turns:
            if turn.speaker is Speaker.AGENT:
                text = turn.text
                for phrase, pattern in patterns:
                    if pattern.search(text):
                        hits.append(phrase)
        return hits

    return check


def tolerant_checker(rulebook: Rulebook) -> Callable[[Transcript], list[str]]:
    """The same job as kefu's forbidden_phrase, done naively: each agent turn converted to
    simplified characters on its own, then one regex per phrase that lets punctuation, spaces
    and filler characters stand between the characters and takes 你 for 您."""
    gap = f"[\\W_{FILLERS}]*"
    patterns = []
    for entry in rulebook.phrase_sets["forbidden"].entries:
        chars = ["[你您]" if c == "您" else re.escape(c) for c in normalize(entry.text)]
        patterns.append((entry.text, re.compile(gap.join(chars))))

    def check(call: Transcript) -> list[str]:
        hits = []
        for turn in call.turns:
            if turn.speaker is Speaker.AGENT:
                text = simplify(turn.text)
                for phrase, pattern in patterns:
                    if pattern.search(text):
                        hits.append(phrase)
        return hits

    return check


@dataclass
class Timing:
    name: str
    run: Callable[[], object]
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def once(self) -> float:
        gc.collect()
        gc.disable()
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            self.run()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        finally:
            gc.enable()
        self.wall.append(wall)
        self.cpu.append(cpu)
        return wall

    def rate(self, n: int, *, median: bool = False, cpu: bool = False) -> float:
        times = self.cpu if cpu else self.wall
        return n / (statistics.median(times) if median else min(times))


def measure(timings: list[Timing], seconds: float) -> int:
    """Interleaved rounds: at least three, more while ``seconds`` last."""
    rounds, spent = 0, 0.0
    while rounds < 3 or (spent < seconds and rounds < MAX_ROUNDS):
        spent += sum(timing.once() for timing in timings)
        rounds += 1
    return rounds


def profile(run: Callable[[], object], n: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(15)
    table = out.getvalue()
    print(f"\ncProfile of one pass over {n} calls (inspect only), top 15 by tottime:")
    print(table[table.index("   ncalls") :].rstrip())


def rule_costs(inspector: Inspector, calls: list[Transcript]) -> None:
    """Where one inspection's time goes: building the call's view, then each rule.

    Uses the engine's internals (``view``, ``rules``, ``_run``, ``_in_scope``), so it is only
    a diagnostic: it says so and gives up when they change.
    """
    in_scope = getattr(engine, "_in_scope", lambda rule, view: True)
    try:
        _rule_costs(inspector, calls, in_scope)
    except (AttributeError, TypeError) as err:
        print(f"\n(time per rule unavailable, the engine's internals changed: {err})")


def _rule_costs(inspector: Inspector, calls: list[Transcript], in_scope: Callable[..., bool]) -> None:
    costs: Counter[str] = Counter()
    gc.disable()
    try:
        began = time.perf_counter()
        for call in calls:
            t0 = time.perf_counter()
            view = inspector.view(call)
            t1 = time.perf_counter()
            costs["(view: normalise + phrase scan)"] += t1 - t0
            for compiled in inspector.rules:
                t0 = time.perf_counter()
                if not in_scope(compiled.rule, view):
                    continue
                with contextlib.suppress(MissingInput):
                    inspector._run(compiled, view)
                costs[compiled.rule.id] += time.perf_counter() - t0
        total = time.perf_counter() - began
    finally:
        gc.enable()
    n = len(calls)
    print(f"\nper call, µs ({total / n * 1e6:,.0f} in all, without the scorecard):")
    print("  " + ", ".join(f"{name} {t / n * 1e6:,.0f}" for name, t in costs.most_common(10)))


def revision() -> str:
    """The commit measured (``+edits`` when the working tree differs from it)."""
    try:
        root = Path(__file__).resolve().parents[1]
        found = subprocess.run(
            ["git", "describe", "--always", "--dirty=+edits"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return found.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="number of calls (default 2000)")
    parser.add_argument(
        "--seconds",
        type=float,
        default=30.0,
        help="keep timing rounds while this many seconds last (at least 3 rounds; default 30)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print the top 15 functions by own time (cProfile) and the time per rule",
    )
    args = parser.parse_args(argv)
    if not JDDC.exists():
        print(f"the benchmark needs the real agent replies at {JDDC} (shared/data beside the repo)")
        return 0

    rulebook = load_rulebook()
    began = time.perf_counter()
    inspector = Inspector(rulebook)
    compile_ms = (time.perf_counter() - began) * 1000
    calls = build_calls(rulebook, args.calls)
    n = len(calls)
    jsonl = "\n".join(call.model_dump_json(exclude_none=True) for call in calls) + "\n"
    naive = naive_checker(rulebook)
    tolerant = tolerant_checker(rulebook)
    one_rule = rulebook.model_copy(update={"rules": [r for r in rulebook.rules if r.id == "forbidden_phrase"]})
    only_forbidden = Inspector(one_rule)

    # Warm-up, and the figures that show the engine did real work.
    reports = [inspector.inspect(call) for call in calls]
    parsed = parse_text(jsonl, "<bench>", fmt="jsonl")
    assert all(item.transcript is not None for item in parsed), "the generated calls must parse"
    naive_hits = [naive(call) for call in calls]
    tolerant_hits = [tolerant(call) for call in calls]
    for call in calls[:200]:
        only_forbidden.inspect(call)

    def run_kefu() -> None:
        for call in calls:
            inspector.inspect(call)

    def run_end_to_end() -> None:
        for item in parse_text(jsonl, "<bench>", fmt="jsonl"):
            inspector.inspect(item.transcript)  # type: ignore[arg-type]

    def run_naive() -> None:
        for call in calls:
            naive(call)

    def run_tolerant() -> None:
        for call in calls:
            tolerant(call)

    def run_one_rule() -> None:
        for call in calls:
            only_forbidden.inspect(call)

    kefu = Timing("kefu inspect, all rules", run_kefu)
    e2e = Timing("kefu parse JSONL + inspect", run_end_to_end)
    base = Timing("baseline: 1 regex per 禁语", run_naive)
    tol = Timing("baseline, tolerant regexes", run_tolerant)
    one = Timing("kefu forbidden_phrase only", run_one_rule)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rounds = measure([kefu, e2e, base, tol, one], args.seconds)

    turns = sum(len(c.turns) for c in calls) / n
    minutes = statistics.mean(c.turns[-1].end or 0.0 for c in calls) / 60
    findings = Counter(f.rule for r in reports for f in r.findings)
    kefu_flagged = sum(any(f.rule == "forbidden_phrase" for f in r.findings) for r in reports)
    base_phrases = Counter(phrase for hits in naive_hits for phrase in hits)
    print(
        f"kefu inspection benchmark — {date.today()}, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores visible; one process, one thread; "
        f"load average {load:.2f} before timing; kefu {revision()}"
    )
    print(
        f"{n} calls: {turns:.1f} turns, {minutes:.1f} min on average, "
        f"{len(jsonl.encode()) / 1e6:.1f} MB as JSON Lines; rulebook {rulebook.version}, "
        f"{len(inspector.rules)} rules, compiled in {compile_ms:.0f} ms; {rounds} rounds\n"
    )
    print(f"{'':28}{'best calls/s':>13}{'median':>9}{'µs/call':>9}{'CPU-time best':>15}{'median':>9}")
    for t in (kefu, e2e, base, tol, one):
        print(
            f"{t.name:28}{t.rate(n):>13,.0f}{t.rate(n, median=True):>9,.0f}"
            f"{1e6 / t.rate(n):>9,.0f}{t.rate(n, cpu=True):>15,.0f}"
            f"{t.rate(n, cpu=True, median=True):>9,.0f}"
        )
    for baseline, what in ((base, "exact wording"), (tol, "tolerant, the same job as kefu's rule")):
        ratios = [b / k for k, b in zip(kefu.wall, baseline.wall, strict=True)]
        print(
            f"\nratio kefu/baseline ({what}): {kefu.rate(n) / baseline.rate(n):.2f} (best), "
            f"{statistics.median(ratios):.2f} (median of rounds) — the baseline checks 1 rule, "
            f"kefu {len(inspector.rules)}; forbidden_phrase alone: {one.rate(n) / baseline.rate(n):.2f}"
        )
    verdict = "PASS" if kefu.rate(n) >= TARGET else "BELOW"
    print(
        f"SPEC target {TARGET:,.0f} calls/s per core: {verdict} (best {kefu.rate(n):,.0f}, "
        f"median {kefu.rate(n, median=True):,.0f}; parse + inspect best {e2e.rate(n):,.0f})"
    )
    print(
        f"\nfindings per call: {sum(findings.values()) / n:.2f}; top rules fired: "
        + ", ".join(f"{rule} {count}" for rule, count in findings.most_common(5))
    )
    polite = sum("稍等一下" in t.text for c in calls for t in c.turns if t.speaker is Speaker.AGENT)
    note = f"; {polite} are in the polite 「稍等一下」, which kefu lets pass" if polite else ""
    print(
        f"calls with a 禁语: kefu {kefu_flagged}, baseline {sum(map(bool, naive_hits))}, "
        f"tolerant baseline {sum(map(bool, tolerant_hits))} "
        "(baseline hits: " + ", ".join(f"「{p}」×{c}" for p, c in base_phrases.most_common(4)) + f"{note})"
    )
    if args.profile:
        profile(run_kefu, n)
        rule_costs(inspector, calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
