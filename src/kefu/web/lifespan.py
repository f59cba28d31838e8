"""What the application does besides answering requests, from startup to shutdown: search is
made ready before the first request is taken (jieba's dictionary loaded, the rulebook's
situation scripts in the database's search index), the start's long-lived objects are moved out
of the garbage collector's reach, overdue work orders are escalated every
``KEFU_ESCALATION_INTERVAL`` seconds (0: never), and imports and exports run as background
jobs (kefu.jobs)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from kefu.jobs.api import job_runner
from kefu.workorders.escalation import EscalationLoop

log = logging.getLogger(__name__)

STOP_WAIT_SECONDS = 2.0  # at shutdown, for the escalation round


def _ensure_default_plan(app: FastAPI) -> None:
    """Seed 004's weekly sampling plan on a first start (never over one the centre edited)."""
    from kefu.core.db import transaction
    from kefu.quality.sampling import ensure_default_plan

    try:
        with transaction(app.state.sessions) as session:
            ensure_default_plan(session)
    except Exception:  # a database not migrated yet must not stop the start
        log.exception("the default sampling plan could not be created")


def _prepare_search(app: FastAPI) -> None:
    """Load jieba's dictionary and OpenCC's tables (about a second, once per process) and put
    the rulebook's situation scripts in the search index if another process has not: the first
    search after the start answers at once."""
    from kefu.core.db import transaction
    from kefu.knowledge import search, service

    search.warm_up()
    try:
        with transaction(app.state.sessions) as session:
            service.index_scripts(session, getattr(app.state, "rulebook", None))
    except Exception:  # the first search tries again (and shows its error, if it is lasting)
        log.exception("the situation scripts could not be indexed for search")


def _freeze_start_objects() -> None:
    """Move the start's long-lived objects out of the garbage collector's reach: the rulebook and
    its inspector, routes, models, templates and mappers are some 195,000 objects the collector
    tracks (the search index, gone, was only part of them), and a full collection walking them
    took 180–220 ms on a busy 2-core machine — a pause that every request in flight waited for
    (the p99 of the soak benchmark). After the freeze it takes well under a millisecond."""
    gc.collect()
    gc.freeze()
    # Fewer young collections: a request allocates thousands of short-lived objects.
    gc.set_threshold(20_000, 20, 20)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await asyncio.to_thread(_prepare_search, app)
    _ensure_default_plan(app)
    _freeze_start_objects()
    interval = app.state.settings.escalation_interval
    loop = EscalationLoop(app.state.sessions, interval) if interval > 0 else None
    app.state.escalation = loop
    if loop is not None:
        loop.start()
    else:
        log.info("overdue escalation is off (KEFU_ESCALATION_INTERVAL=0)")
    jobs = job_runner(app)  # imports and exports, outside the web workers (kefu.jobs.runner)
    jobs.start()
    try:
        yield
    finally:
        await asyncio.to_thread(jobs.stop, STOP_WAIT_SECONDS)  # a job under way ends as interrupted
        # A round under way gets a moment to finish, never the power to hold up a stop (SIGTERM):
        # it runs in a daemon thread, and a round cut short is rolled back whole.
        if loop is not None:
            await asyncio.to_thread(loop.stop, STOP_WAIT_SECONDS)
