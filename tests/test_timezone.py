"""One clock for the centre (KEFU_TIMEZONE): calls, SLA, work-order numbers and the platform's
expected greeting move together; `kefu qa` keeps the rulebook's greetings.utc_offset."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from kefu.accounts import service as accounts
from kefu.calls.models import is_night_service
from kefu.calls.schemas import CallCreate
from kefu.core.clock import centre_tz, parse_zone, utc_for_storing
from kefu.core.db import transaction
from kefu.core.security import Role
from kefu.core.settings import Settings, get_settings
from kefu.flows import intake
from kefu.inspection.engine import Inspector
from kefu.inspection.transcript import Transcript
from kefu.rulebook.calendar import moment_greetings
from kefu.rulebook.loader import load_rulebook
from kefu.web.app import create_app
from kefu.workorders import service as wo
from kefu.workorders import sla
from kefu.workorders.models import OrderType
from kefu.workorders.schemas import WorkOrderCreate

KEFU = Path(sys.executable).parent / "kefu"

# 23:40 UTC on Monday 23 November 2026: Tuesday 07:40 in Shanghai (早上好, day 24, no night
# service: that ends at 07:30), Monday 23:40 in UTC (晚上好, day 23, night service).
MOMENT = datetime(2026, 11, 23, 23, 40, tzinfo=UTC)


@contextmanager
def centre_zone(name: str) -> Iterator[None]:
    """KEFU_TIMEZONE=name for the platform read in the block (settings are read once per process)."""
    before = os.environ.get("KEFU_TIMEZONE")
    os.environ["KEFU_TIMEZONE"] = name
    get_settings.cache_clear()
    try:
        yield
    finally:
        if before is None:
            del os.environ["KEFU_TIMEZONE"]
        else:
            os.environ["KEFU_TIMEZONE"] = before
        get_settings.cache_clear()


def test_zone_names_and_offsets() -> None:
    assert parse_zone("Asia/Shanghai") == ZoneInfo("Asia/Shanghai")
    assert parse_zone(" +08:00 ").utcoffset(None) == timedelta(hours=8)
    assert parse_zone("-05:30").utcoffset(None) == -timedelta(hours=5, minutes=30)
    assert parse_zone("UTC+0800").utcoffset(None) == timedelta(hours=8)
    assert Settings().timezone == "Asia/Shanghai" and Settings().tz == ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("bad", ["Mars/Olympus", "北京时间", "08:00", "+15:00", "+08:75", ""])
def test_a_bad_zone_is_refused_with_a_clear_message(bad: str) -> None:
    with pytest.raises(ValidationError, match="KEFU_TIMEZONE") as caught:
        Settings(timezone=bad)
    assert "Asia/Shanghai" in str(caught.value) or "超出范围" in str(caught.value)


def test_the_commands_refuse_a_bad_zone_and_change_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "KEFU_TIMEZONE": "Mars/Olympus", "KEFU_DATA_DIR": str(data)}
    env.pop("KEFU_DATABASE_URL", None)
    for command in (["escalate"], ["serve", "--port", "1"]):
        done = subprocess.run([KEFU, *command], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert "KEFU_TIMEZONE" in done.stderr and "未知的时区「Mars/Olympus」" in done.stderr
    assert not data.exists()


def test_changing_the_zone_moves_day_night_and_greeting_together(database_url: str, tmp_path: Path) -> None:
    transcript = Transcript.model_validate(
        {"id": "t", "answered_at": MOMENT.isoformat(), "turns": [{"speaker": "agent", "text": "您好"}]}
    )
    expected = {
        "Asia/Shanghai": ("20261124", False, "早上好", 7),
        "+08:00": ("20261124", False, "早上好", 7),
        "UTC": ("20261123", True, "晚上好", 23),
    }
    agent = None
    for zone, (day, night, greeting, hour) in expected.items():
        with centre_zone(zone):
            assert centre_tz() == parse_zone(zone)
            settings = Settings(data_dir=tmp_path, database_url=database_url, secret_key="test-secret")
            app = create_app(settings)
            try:
                with transaction(app.state.sessions) as session:
                    if agent is None:
                        agent = accounts.do_create_user(
                            session, None, agent_no="12345", name="小李", role=Role.AGENT, password="kefu2026"
                        ).id
                    order = wo.do_create(
                        session,
                        agent,
                        WorkOrderCreate(type=OrderType.CONSULTATION, title="保修期", description="询问保修期"),
                        now=MOMENT,
                    )
                    call = intake.do_record_call(
                        session, agent, CallCreate(direction="inbound", ring_at=MOMENT, reason="consult.tariff")
                    )
                # the work-order day, the night-service flag, the SLA's business day, the greeting
                assert order.number.startswith(f"GD{day}-"), zone
                assert call.night_service is night and is_night_service(MOMENT) is night
                assert sla.default_policy().calendar.local(MOMENT).hour == hour
                with app.state.sessions() as session:
                    active = app.state.rulebooks.active(session)  # what calls, workbench and assist use
                assert active.inspector.constants(transcript)["greeting"] == greeting  # call inspection
                assert moment_greetings(active.rulebook.greetings, MOMENT).greeting == greeting  # workbench
            finally:
                app.state.engine.dispose()


def test_a_zone_less_time_is_on_the_centre_clock() -> None:
    """A form's or a spreadsheet's time without a zone: a call's ring time, a promised time."""
    for zone, local in (("UTC", datetime(2026, 11, 23, 23, 40)), ("+08:00", datetime(2026, 11, 24, 7, 40))):
        with centre_zone(zone):
            assert utc_for_storing(local) == MOMENT
            order = WorkOrderCreate(type="咨询类", title="x", promised_at=local.isoformat())
            assert order.promised_at == MOMENT


def test_kefu_qa_keeps_the_rulebook_offset() -> None:
    """The offline inspector has no platform settings: greetings.utc_offset (+08:00) decides."""
    transcript = Transcript.model_validate(
        {"id": "t", "answered_at": MOMENT.isoformat(), "turns": [{"speaker": "agent", "text": "您好"}]}
    )
    with centre_zone("UTC"):
        rulebook = load_rulebook()
        assert rulebook.greetings.tz == timezone(timedelta(hours=8))
        assert Inspector(rulebook).constants(transcript)["greeting"] == "早上好"
        assert Inspector(rulebook.on_clock(centre_tz())).constants(transcript)["greeting"] == "晚上好"
