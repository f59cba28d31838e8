"""The demo centre's generator at any time of day: every call it makes is over by the moment it
is generated, in ring → answer → end order — the first start of ``kefu serve`` must not fail
because it happens to run while a generated call would still be ringing."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pytest

from kefu.core.clock import centre_tz, utc_for_storing
from kefu.flows import demo_centre


@pytest.mark.parametrize("clock", [time(0, 0, 1), time(9, 59, 59), time(10, 0, 7), time(16, 30), time(23, 59, 59)])
def test_every_generated_call_is_over_and_in_order(clock: time) -> None:
    now = utc_for_storing(datetime.combine(datetime(2026, 11, 30).date(), clock, centre_tz()))
    rng = random.Random(demo_centre.SEED)
    agents = [SimpleNamespace(id=i, team=demo_centre.TEAMS[i % 3]) for i in range(25)]
    profiles = demo_centre._profiles(rng, agents)  # type: ignore[arg-type]
    calls = demo_centre._generate(rng, agents, profiles, now)  # type: ignore[arg-type]
    assert len(calls) > 20_000
    for call in calls:
        assert call.ring <= (call.answered or call.ring) <= call.ended <= now
    assert min(c.ring for c in calls) >= now - timedelta(days=demo_centre.DAYS + 1)
