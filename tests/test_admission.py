"""Admission control (kefu.web.admission) on its own: a downstream app that holds requests until the
test lets them go, so that nothing depends on how fast the machine is."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import Receive, Scope, Send

from kefu.web.admission import BUSY, AdmissionControl, Gate

BOUND = 5.0  # seconds: far above any answer here; only a hang reaches it


class Held:
    """A downstream ASGI app: each request reports that it is in, then waits for ``release``."""

    def __init__(self) -> None:
        self.inside = 0
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.fail_with: BaseException | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.inside += 1
        self.entered.set()
        try:
            await self.release.wait()
            if self.fail_with is not None:
                raise self.fail_with
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"ok"})
        finally:
            self.inside -= 1


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 30))


def client(app: AdmissionControl) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kefu.test")


def test_beyond_capacity_a_request_is_refused_at_once_and_served_again_after() -> None:
    async def scenario() -> None:
        held = Held()
        gate = AdmissionControl(held, limit=1, wait_ms=50, retry_after=3)
        async with client(gate) as http:
            first = asyncio.create_task(http.get("/api/workorders"))
            await asyncio.wait_for(held.entered.wait(), BOUND)

            refused = await asyncio.wait_for(http.get("/api/workorders"), BOUND)
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "3"
            assert refused.json() == {"detail": BUSY}
            page = await asyncio.wait_for(http.get("/workorders"), BOUND)
            assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
            assert "服务器繁忙" in page.text and page.headers["retry-after"] == "3"
            assert held.inside == 1  # the refused ones never reached the application

            held.release.set()
            assert (await asyncio.wait_for(first, BOUND)).status_code == 200
            again = await asyncio.wait_for(http.get("/api/workorders"), BOUND)
            assert again.status_code == 200
            assert gate.gate.active == 0

    run(scenario)


def test_a_request_that_waits_briefly_gets_the_place_that_comes_free() -> None:
    async def scenario() -> None:
        held = Held()
        gate = AdmissionControl(held, limit=1, wait_ms=int(BOUND * 1000), retry_after=1)
        async with client(gate) as http:
            first = asyncio.create_task(http.get("/api/calls"))
            await asyncio.wait_for(held.entered.wait(), BOUND)
            second = asyncio.create_task(http.get("/api/calls"))
            while gate.gate.waiting == 0:  # the second one is queued at the gate, not inside
                await asyncio.sleep(0.01)
            assert held.inside == 1
            held.release.set()
            answers = await asyncio.wait_for(asyncio.gather(first, second), BOUND)
            assert [a.status_code for a in answers] == [200, 200]
            assert gate.gate.active == 0 and gate.gate.waiting == 0

    run(scenario)


def test_health_and_static_files_answer_while_every_place_is_taken() -> None:
    async def scenario() -> None:
        held = Held()
        gate = AdmissionControl(held, limit=1, wait_ms=0, retry_after=1)
        async with client(gate) as http:
            first = asyncio.create_task(http.get("/api/customers"))
            await asyncio.wait_for(held.entered.wait(), BOUND)
            health = await asyncio.wait_for(http.get("/healthz"), BOUND)
            assert health.status_code == 200
            assert health.json() == {"status": "ok", "active": 1, "waiting": 0, "refused": 0}
            static = asyncio.create_task(http.get("/static/kefu.css"))  # goes past the gate to the app
            while held.inside < 2:
                await asyncio.sleep(0.01)
            held.release.set()
            assert (await asyncio.wait_for(static, BOUND)).status_code == 200
            assert (await asyncio.wait_for(first, BOUND)).status_code == 200

    run(scenario)


@pytest.mark.parametrize(
    "error",
    [
        PoolTimeout("QueuePool limit of size 10 overflow 10 reached, connection timed out, timeout 3.00"),
        OperationalError("INSERT …", {}, Exception("database is locked")),
    ],
    ids=["no connection in time", "no turn to write in time"],
)
def test_a_busy_database_is_a_503_not_a_500(error: BaseException) -> None:
    async def scenario() -> None:
        held = Held()
        held.fail_with = error
        held.release.set()
        gate = AdmissionControl(held, limit=4, wait_ms=0, retry_after=2)
        async with client(gate) as http:
            answer = await asyncio.wait_for(http.post("/api/calls"), BOUND)
        assert answer.status_code == 503 and answer.headers["retry-after"] == "2"
        assert answer.json() == {"detail": BUSY}
        assert gate.gate.active == 0

    run(scenario)


def test_other_errors_are_not_disguised_as_busy() -> None:
    async def scenario() -> None:
        held = Held()
        held.fail_with = OperationalError("SELECT …", {}, Exception("no such table: calls"))
        held.release.set()
        gate = AdmissionControl(held, limit=4, wait_ms=0, retry_after=2)
        async with client(gate) as http:
            with pytest.raises(OperationalError):
                await http.get("/api/calls")
        assert gate.gate.active == 0  # the place was given back all the same

    run(scenario)


def test_never_more_than_the_limit_inside_and_no_place_leaks() -> None:
    async def scenario() -> None:
        held = Held()
        gate = AdmissionControl(held, limit=2, wait_ms=int(BOUND * 1000), retry_after=1)
        async with client(gate) as http:
            tasks = [asyncio.create_task(http.get(f"/api/calls?n={i}")) for i in range(12)]
            while held.inside < 2 or gate.gate.waiting < 10:
                await asyncio.sleep(0.01)
            assert held.inside == 2  # never more than the limit inside
            held.release.set()
            answers = await asyncio.wait_for(asyncio.gather(*tasks), BOUND)
        assert all(a.status_code == 200 for a in answers)
        assert gate.gate.active == 0 and gate.gate.waiting == 0

    run(scenario)


def test_the_gate_hands_a_place_between_event_loops_of_different_threads() -> None:
    """The test client runs each request on a loop of its own, in its own thread."""
    gate = Gate(limit=1, wait=BOUND)
    holding, waiting = threading.Event(), threading.Event()
    got: list[bool] = []

    async def first() -> None:
        assert await gate.enter()
        holding.set()
        await asyncio.to_thread(waiting.wait, BOUND)
        gate.leave()

    async def second() -> None:
        holding.wait(BOUND)
        entering = asyncio.ensure_future(gate.enter())
        while gate.waiting == 0:
            await asyncio.sleep(0.01)
        waiting.set()
        got.append(await asyncio.wait_for(entering, BOUND))
        gate.leave()

    threads = [threading.Thread(target=asyncio.run, args=(job(),)) for job in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BOUND * 2)
    assert got == [True]
    assert gate.active == 0 and gate.waiting == 0
