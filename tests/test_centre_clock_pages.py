"""Every time a person reads is on the centre's clock (KEFU_TIMEZONE): the rulebook drafts, the
appeal history, the calibration list — pages that showed the stored UTC — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from conftest import AppFactory, client_for
from kefu.accounts import service as accounts
from kefu.accounts.models import User
from kefu.core.db import transaction
from kefu.core.security import Role
from kefu.quality import calibration
from kefu.quality.models import Appeal, CalibrationSession, RulebookVersion

# Stored as 23:30 UTC on Monday 11 March 2024: Tuesday 12 March 07:30 on the centre's clock (UTC+8).
STORED = datetime(2024, 3, 11, 23, 30, tzinfo=UTC)
ON_THE_CENTRES_CLOCK, IN_UTC = "2024-03-12 07:30", "2024-03-11 23:30"


def test_drafts_appeals_and_calibrations_show_the_centres_clock(app_factory: AppFactory) -> None:
    app = app_factory(activity=True)  # calls with their scorecards
    qa, agent, lead = client_for(app, "30001"), client_for(app, "10001"), client_for(app, "20001")

    draft = qa.post("/api/quality/rulebooks", json={"overlay": "pass_line: 82\n", "note": "试行"})
    assert draft.status_code == 201, draft.text
    card = next(
        found
        for mine in agent.get("/api/quality/appeals/mine").json()
        if any((found := agent.get(f"/api/quality/appeals/scorecards/{mine['inspection_id']}").json())["finding_list"])
        and any(f["appealable"] for f in found["finding_list"])
    )
    finding = next(f for f in card["finding_list"] if f["appealable"])
    appeal = agent.post("/api/quality/appeals", json={"finding_id": finding["id"], "reason": "开场白说全了"})
    assert appeal.status_code == 201, appeal.text
    with transaction(app.state.sessions) as session:
        second_qa = accounts.do_create_user(
            session, None, agent_no="30002", name="孙悦", role=Role.QA, password="Kefu-2026!"
        )
        first_qa = session.scalars(select(User).where(User.agent_no == "30001")).one()
        group = calibration.do_create_calibration(
            session, first_qa.id, "三月校准", [card["call_id"]], [first_qa.id, second_qa.id], first_qa.id
        )
        # As if all of it had happened at STORED.
        session.get(RulebookVersion, draft.json()["id"]).created_at = STORED  # type: ignore[union-attr]
        stored = session.get(Appeal, appeal.json()["id"])
        assert stored is not None
        stored.history = [{**step, "at": STORED.isoformat()} for step in stored.history]
        session.get(CalibrationSession, group.id).created_at = STORED  # type: ignore[union-attr]

    for client, url in (
        (qa, "/quality/rulebooks"),
        (qa, f"/quality/rulebooks/{draft.json()['id']}"),
        (agent, f"/quality/inspections/{card['inspection_id']}"),  # the scorecard with the appeal's history
        (lead, "/quality/appeals"),  # the queue, with each appeal's history
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert ON_THE_CENTRES_CLOCK in page.text and IN_UTC not in page.text, url
    calibrations = qa.get("/quality/calibration").text
    assert "<td>2024-03-12</td>" in calibrations and "2024-03-11" not in calibrations  # the centre's day
    history = lead.get("/api/quality/appeals/queue").json()[0]["history"]
    assert history[0]["at"] == "2024-03-12T07:30:00+08:00"  # the API: the same moment, with its offset
