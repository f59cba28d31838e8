"""Overdue escalation on a schedule: every missed SLA deadline escalated once, by the system.

``run_escalation_round`` is one round in its own transaction; ``EscalationLoop`` runs rounds in a
background thread every ``KEFU_ESCALATION_INTERVAL`` seconds (``kefu serve`` starts it; ``kefu
escalate`` runs one round, e.g. from cron).

Several processes may run rounds against one database. ``do_escalate_overdue`` reads which
deadlines were already escalated and then writes the new escalations; two rounds interleaving
there would escalate the same deadline twice, so a round first takes a database-wide lock:

- PostgreSQL: a transaction-level advisory lock (``pg_try_advisory_xact_lock``). A round that
  does not get it is skipped: the runner holding it escalates everything due anyway.
- SQLite: ``BEGIN IMMEDIATE`` takes the write lock before the first read, so a second round waits
  (up to the busy timeout) and then sees the first round's escalations.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from kefu.workorders.service import do_escalate_overdue

log = logging.getLogger(__name__)

# pg_try_advisory_xact_lock key: any constant bigint, the same in every kefu process.
ADVISORY_LOCK_KEY = 0x6B6566_7553_4C41  # "kefu" "SLA"


def _lock(session: Session) -> bool:
    """Take the escalation lock for this transaction; False if another runner holds it."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}))
    if dialect == "sqlite":
        # pysqlite begins a transaction lazily (a deferred BEGIN before the first write): start it
        # ourselves, as a write transaction, before anything is read.
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        return True
    raise NotImplementedError(f"overdue escalation has no lock for {dialect}")


def run_escalation_round(factory: sessionmaker[Session], now: datetime | None = None) -> int:
    """One round: escalate every missed, not yet escalated deadline; how many orders were
    escalated (0 also when another runner's round is under way)."""
    with factory() as session, session.begin():
        if not _lock(session):
            log.info("overdue escalation skipped: another runner holds the lock")
            return 0
        touched = do_escalate_overdue(session, now)
    if touched:
        log.info("overdue escalation: %d work orders escalated", len(touched))
    return len(touched)


class EscalationLoop:
    """Rounds every ``interval`` seconds in a daemon thread, the first one ``interval`` seconds
    after ``start``. A failing round is logged and the loop goes on; ``stop`` wakes the thread
    and waits for the round under way, if any, to finish."""

    def __init__(self, factory: sessionmaker[Session], interval: float) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive (0 turns the escalation loop off: do not start it)")
        self.factory = factory
        self.interval = interval
        self.rounds = 0  # finished rounds, failed ones included
        self.escalated = 0  # orders escalated by this loop
        self.round_done = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="kefu-escalation", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 60) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("overdue escalation: the round under way did not finish in %s s", timeout)
            self._thread = None

    def wait_for_rounds(self, count: int, timeout: float) -> bool:
        """Block until ``count`` rounds have finished (for tests and diagnostics)."""
        with self.round_done:
            return self.round_done.wait_for(lambda: self.rounds >= count, timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                escalated = run_escalation_round(self.factory)
            except Exception:  # a bad round (database away, a bug) must not end the loop
                log.exception("overdue escalation round failed; trying again in %s s", self.interval)
                escalated = 0
            with self.round_done:
                self.rounds += 1
                self.escalated += escalated
                self.round_done.notify_all()
