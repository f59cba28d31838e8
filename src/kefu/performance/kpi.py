"""The KPIs of a contact centre, each defined once, as pure functions over records.

Every figure is a ``Ratio`` or a ``Mean`` that keeps what it was computed from (numerator and
denominator, or the count), so a page can show "412 / 480" beside "85.8%" and an agent can see
what their figure is made of. Nothing here reads the database: the platform and ``kefu kpi``
give the same records and get the same figures.

Definitions (README "Performance"):

- **Service level** — offered calls answered within ``within`` seconds of ringing, over the
  offered calls that count (``AbandonPolicy``). Target of seed 003 (中国联通服务标准): 85% within 20 s.
- **Abandonment rate** — offered calls never answered, over offered calls (short abandons under
  ``short_seconds`` left out of both when the policy says so).
- **ASA** (average speed of answer) — mean seconds from ring to answer of answered calls.
- **Average handling time** — mean of talk + hold + after-call work of answered calls (hold and
  after-call work where known).
- **First-contact resolution** — answered contacts after which the same customer did not contact
  the centre again about the same reason within ``days`` days (default 7), over answered contacts
  whose customer is known (anonymous callers cannot be followed).
- **CSAT** — satisfied answers (4–5 of 5, or 满意) over survey answers.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import chain

# Seed 003 中国联通服务标准: 85% of calls answered within 20 seconds.
SERVICE_LEVEL_SECONDS = 20.0
SERVICE_LEVEL_TARGET = 0.85
FCR_DAYS = 7


@dataclass(frozen=True)
class Ratio:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """None when nothing counts (no offered calls): not 0%, not 100%."""
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class Mean:
    total: float
    count: int

    @property
    def value(self) -> float | None:
        return self.total / self.count if self.count else None


@dataclass(frozen=True)
class CallFact:
    """One offered call as the KPIs need it (a call record, a row of a switch's CDR export).

    ``answered_at`` None: never answered — ``ended_at`` is then when the caller gave up."""

    call_id: str
    ring_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    agent: str | None = None
    team: str | None = None
    customer: str | None = None
    reason: str | None = None
    hold_seconds: float = 0.0
    wrap_seconds: float | None = None  # after-call work, when the switch reports it

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def wait_seconds(self) -> float | None:
        """Ring to answer, or ring to giving up; None when not known."""
        end = self.answered_at or self.ended_at
        return None if end is None else max(0.0, (end - self.ring_at).total_seconds())

    @property
    def handling_seconds(self) -> float | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        talk = max(0.0, (self.ended_at - self.answered_at).total_seconds())
        return talk + self.hold_seconds + (self.wrap_seconds or 0.0)


class AbandonMode(StrEnum):
    """How calls abandoned in the queue count in the service level; centres disagree."""

    FAILURES = "failures"  # every abandoned call is a call not answered in time
    IGNORED = "ignored"  # abandoned calls are left out: the service level of the calls answered
    SHORT_IGNORED = "short_ignored"  # failures, except callers who gave up within ``short_seconds``


@dataclass(frozen=True)
class AbandonPolicy:
    mode: AbandonMode = AbandonMode.SHORT_IGNORED
    short_seconds: float = 5.0

    def short_abandon(self, call: CallFact) -> bool:
        """A caller who gave up within ``short_seconds``, left out of every figure by this policy."""
        wait = call.wait_seconds
        return (
            self.mode is AbandonMode.SHORT_IGNORED
            and not call.answered
            and wait is not None
            and wait < self.short_seconds
        )

    def counts(self, call: CallFact) -> bool:
        """Whether ``call`` is among the offered calls of the service level."""
        if call.answered:
            return True
        return self.mode is not AbandonMode.IGNORED and not self.short_abandon(call)

    def describe(self) -> str:
        """Shown beside the figure."""
        if self.mode is AbandonMode.FAILURES:
            return "放弃的来电计为未及时接听"
        if self.mode is AbandonMode.IGNORED:
            return "放弃的来电不计入"
        return f"放弃的来电计为未及时接听({self.short_seconds:g} 秒内挂断的不计入)"


@dataclass(frozen=True)
class Queue:
    """The figures of the queue, from one pass over the calls (a month's evaluation computes
    them for every agent): each call's wait is taken once."""

    answered: int
    service_level: Ratio
    abandonment: Ratio
    asa: Mean
    handling: Mean


def queue(
    calls: Iterable[CallFact], within: float = SERVICE_LEVEL_SECONDS, policy: AbandonPolicy | None = None
) -> Queue:
    """Service level, abandonment, ASA and handling time — the definitions in the module's
    docstring, with ``CallFact.wait_seconds`` and ``handling_seconds`` written out for speed."""
    policy = policy or AbandonPolicy()
    waits: list[float] = []  # of the answered calls: ``wait_seconds``
    handling: list[float] = []  # ``handling_seconds``, where known
    offered = fast = unanswered = short = counted_unanswered = 0  # an answered call always counts
    for call in calls:
        offered += 1
        answered_at = call.answered_at
        if answered_at is None:
            unanswered += 1
            short += policy.short_abandon(call)
            counted_unanswered += policy.counts(call)
            continue
        wait = max(0.0, (answered_at - call.ring_at).total_seconds())
        waits.append(wait)
        fast += wait <= within
        if call.ended_at is not None:
            talk = max(0.0, (call.ended_at - answered_at).total_seconds())
            handling.append(talk + call.hold_seconds + (call.wrap_seconds or 0.0))
    answered = len(waits)
    return Queue(
        answered=answered,
        service_level=Ratio(fast, answered + counted_unanswered),
        abandonment=Ratio(unanswered - short, offered - short),
        asa=Mean(sum(waits), answered),
        handling=Mean(sum(handling), len(handling)),
    )


def service_level(
    calls: Iterable[CallFact], within: float = SERVICE_LEVEL_SECONDS, policy: AbandonPolicy | None = None
) -> Ratio:
    return queue(calls, within, policy).service_level


def abandonment_rate(calls: Iterable[CallFact], policy: AbandonPolicy | None = None) -> Ratio:
    return queue(calls, policy=policy).abandonment


def average_speed_of_answer(calls: Iterable[CallFact]) -> Mean:
    return queue(calls).asa


def average_handling_time(calls: Iterable[CallFact]) -> Mean:
    return queue(calls).handling


def contacts_resolved(
    calls: Sequence[CallFact], days: int = FCR_DAYS, later: Sequence[CallFact] = ()
) -> list[bool | None]:
    """For each call of ``calls``: whether it was a first-contact resolution — an answered contact
    with a known customer not followed by another contact of the same customer about the same
    reason within ``days`` days (answered or not: calling back is the sign; a contact without a
    reason, such as a call abandoned in the queue, counts as a repeat of any reason); None when it
    does not count (not answered, anonymous caller). ``later``: the calls after the period,
    searched for repeats only — without them the period's last days look resolved.

    Computed once over all calls, whoever took the repeat: a customer who calls again about the
    same thing was not helped, whichever agent takes the second call."""
    if not calls:
        return []  # nothing to resolve: the later calls need no index
    window = timedelta(days=days)
    by_topic: dict[tuple[str, str | None], list[datetime]] = defaultdict(list)
    for call in chain(calls, later):
        if call.customer is not None:
            by_topic[(call.customer, call.reason)].append(call.ring_at)
    for times in by_topic.values():
        times.sort()
    # Written out rather than with a helper per topic: this runs for every call of a month.
    resolved: list[bool | None] = []
    for call in calls:
        customer = call.customer
        if call.answered_at is None or customer is None:
            resolved.append(None)
            continue
        ring, until = call.ring_at, call.ring_at + window
        same = by_topic[(customer, call.reason)]  # holds the call itself
        after = bisect_right(same, ring)  # the first contact of the topic after this one
        if after < len(same) and same[after] <= until:
            resolved.append(False)
            continue
        unknown = by_topic.get((customer, None))  # contacts without a reason repeat any topic
        if unknown:
            after = bisect_right(unknown, ring)
            resolved.append(not (after < len(unknown) and unknown[after] <= until))
        else:
            resolved.append(True)
    return resolved


def first_contact_resolution(calls: Sequence[CallFact], days: int = FCR_DAYS, later: Sequence[CallFact] = ()) -> Ratio:
    return resolution_ratio(contacts_resolved(calls, days, later))


def resolution_ratio(resolved: Iterable[bool | None]) -> Ratio:
    counted = [r for r in resolved if r is not None]
    return Ratio(sum(counted), len(counted))


SATISFIED_WORDS = frozenset({"满意", "非常满意", "很满意", "滿意", "非常滿意", "很滿意"})
KNOWN_WORDS = SATISFIED_WORDS | {"一般", "不满意", "不滿意", "很不满意", "很不滿意", "非常不满意", "非常不滿意"}


def is_satisfied(answer: int | str) -> bool | None:
    """A survey answer: 1–5 (4 and 5 satisfied) or 满意/一般/不满意; None when unreadable."""
    if isinstance(answer, int) and not isinstance(answer, bool):
        return answer >= 4 if 1 <= answer <= 5 else None
    text = str(answer).strip()
    if text.isdigit():
        return is_satisfied(int(text))
    return text in SATISFIED_WORDS if text in KNOWN_WORDS else None


def csat(answers: Iterable[int | str]) -> Ratio:
    read = [s for s in map(is_satisfied, answers) if s is not None]
    return Ratio(sum(read), len(read))


@dataclass(frozen=True)
class Figures:
    """The call KPIs of one agent, team or the centre."""

    offered: int
    answered: int
    service_level: Ratio
    abandonment: Ratio
    asa: Mean
    handling: Mean
    fcr: Ratio


def figures(
    calls: Sequence[CallFact],
    *,
    within: float = SERVICE_LEVEL_SECONDS,
    policy: AbandonPolicy | None = None,
    fcr_days: int = FCR_DAYS,
    later: Sequence[CallFact] = (),
    resolved: Sequence[bool | None] | None = None,
) -> Figures:
    """``later``: the calls after the period, which only tell whether a contact was repeated;
    ``resolved``: ``contacts_resolved`` of ``calls`` when already known (a group of a larger set)."""
    q = queue(calls, within, policy)
    return Figures(
        offered=len(calls),
        answered=q.answered,
        service_level=q.service_level,
        abandonment=q.abandonment,
        asa=q.asa,
        handling=q.handling,
        fcr=resolution_ratio(resolved if resolved is not None else contacts_resolved(calls, fcr_days, later)),
    )
