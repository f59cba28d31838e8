"""What the application does besides answering requests, from startup to shutdown: the knowledge
index is built before the first request is taken (for at most ``READY_WAIT_SECONDS``; a larger
one goes on building in the background and the first searches wait for it), overdue work
orders are escalated every ``KEFU_ESCALATION_INTERVAL`` seconds (0: never), and imports and
exports run as background jobs (kefu.jobs)."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from kefu.jobs.api import job_runner
from kefu.knowledge.api import index_holder
from kefu.workorders.escalation import EscalationLoop

log = logging.getLogger(__name__)

STOP_WAIT_SECONDS = 2.0  # at shutdown, for the escalation round and the index build each
READY_WAIT_SECONDS = 60.0  # at startup, for the index build


def _ensure_default_plan(app: FastAPI) -> None:
    """Seed 004's weekly sampling plan on a first start (never over one the centre edited)."""
    from kefu.core.db import transaction
    from kefu.quality.sampling import ensure_default_plan

    try:
        with transaction(app.state.sessions) as session:
            ensure_default_plan(session)
    except Exception:  # a database not migrated yet must not stop the start
        log.exception("the default sampling plan could not be created")


def _freeze_when_built(builder: threading.Thread) -> None:
    """Once the start's long-lived objects exist (rulebook, jieba's dictionary, the search index),
    move them out of the garbage collector's reach: a full collection walking them took ~125 ms,
    a pause that every request in flight waited for (the p99 of the soak benchmark)."""
    builder.join()
    gc.collect()
    gc.freeze()
    # Fewer young collections: a request allocates thousands of short-lived objects.
    gc.set_threshold(20_000, 20, 20)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    builder = index_holder(app).build_in_background()
    # Requests taken while the index builds would each wait for it (and for the collections of
    # the build's garbage): a worker starts taking them when it is ready.
    await asyncio.to_thread(builder.join, READY_WAIT_SECONDS)
    if builder.is_alive():
        threading.Thread(target=_freeze_when_built, args=(builder,), name="kefu-gc-freeze", daemon=True).start()
    else:
        _freeze_when_built(builder)
    _ensure_default_plan(app)
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
        # A round or an index build under way gets a moment to finish, never the power to hold up
        # a stop (SIGTERM): both run in daemon threads, and a round cut short is rolled back whole.
        if loop is not None:
            await asyncio.to_thread(loop.stop, STOP_WAIT_SECONDS)
        await asyncio.to_thread(builder.join, STOP_WAIT_SECONDS)
