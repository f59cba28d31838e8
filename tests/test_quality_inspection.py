"""Every call inspected on arrival, stored with the rulebook version that produced it; a failing
inspection keeps the call and marks it for re-inspection; publishing a version changes what new
calls are inspected with; final scores follow overturned findings — on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from conftest import GOOD_TURNS as GOOD
from conftest import RUDE_TURNS as RUDE
from kefu.accounts import service as accounts
from kefu.calls import service as calls
from kefu.calls.schemas import CallCreate, CallUpdate
from kefu.core import audit
from kefu.core.clock import centre_tz
from kefu.core.db import transaction
from kefu.core.errors import Conflict, Invalid
from kefu.core.security import Role
from kefu.flows import intake
from kefu.quality import rulebooks
from kefu.quality import service as quality
from kefu.quality.models import FindingReview, InspectionStatus, RulebookStatus
from kefu.quality.rulebooks import Active, RulebookSource


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, second, tzinfo=centre_tz())


def call(transcript: list[dict[str, object]] | None, agent_id: int, **fields: object) -> CallCreate:
    return CallCreate.model_validate(
        {
            "direction": "inbound",
            "ring_at": at(9, 0, 0),
            "answered_at": at(9, 0, 4),
            "ended_at": at(9, 0, 50),
            "hangup_by": "customer",
            "reason": "consult.tariff",
            "agent_id": agent_id,
            "transcript": transcript,
            **fields,
        }
    )


@pytest.fixture
def agent(sessions) -> int:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        return accounts.do_create_user(
            session, None, agent_no="12345", name="小李", role=Role.AGENT, password="kefu2026"
        ).id


def test_a_call_with_a_transcript_is_inspected_on_arrival(sessions, agent: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        rude = intake.do_record_call(session, agent, call(RUDE, agent))
        silent = intake.do_record_call(session, agent, call(None, agent))
    with sessions() as session:
        inspection = quality.current_inspection(session, rude.id)
        assert inspection is not None and inspection.status == InspectionStatus.DONE
        assert inspection.rulebook_id is None and inspection.rulebook_label == "2026.11"  # no version published yet
        rules = {f.rule for f in inspection.findings}
        assert {"forbidden_phrase", "negative_wording"} <= rules
        forbidden = next(f for f in inspection.findings if f.rule == "forbidden_phrase")
        assert forbidden.turn == 2 and "等一下" in (forbidden.evidence or "") and forbidden.suggestion
        assert inspection.machine_score == inspection.final_score < 100
        record = calls.get_call(session, rude.id)
        assert record.qa_score == inspection.machine_score and record.inspected_at is not None
        assert quality.current_inspection(session, silent.id) is None  # nothing to inspect


def test_an_import_inspects_every_call(sessions, agent: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        imported = intake.do_import_calls(session, agent, [call(GOOD, agent), call(RUDE, agent)], "test.csv")
    with sessions() as session:
        scores = [quality.current_inspection(session, c.id).machine_score for c in imported]  # type: ignore[union-attr]
    assert scores[0] > scores[1]


def test_a_corrected_transcript_is_inspected_again_and_the_old_scorecard_kept(sessions, agent: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        record = intake.do_record_call(session, agent, call(RUDE, agent))
        first = quality.current_inspection(session, record.id)
        assert first is not None
    with transaction(sessions) as session:
        intake.do_correct_call(session, agent, record.id, CallUpdate(version=record.version, transcript=GOOD))
    with sessions() as session:
        now = quality.current_inspection(session, record.id)
        old = quality.get_inspection(session, first.id)
        assert now is not None and now.id != first.id and not old.current
        assert now.machine_score > old.machine_score  # type: ignore[operator]
        assert "forbidden_phrase" not in {f.rule for f in now.findings}


class BrokenSource(RulebookSource):
    """The engine failing on a call (a bug, a rule the data trips over)."""

    def prepare(self, version):  # type: ignore[no-untyped-def]
        active = super().prepare(version)

        class Broken:
            def inspect(self, transcript: object) -> None:
                raise RuntimeError("rule engine crashed")

        return replace(active, inspector=Broken())  # type: ignore[arg-type]


def test_a_failing_inspection_keeps_the_call_and_marks_it_for_reinspection(sessions, agent: int) -> None:  # type: ignore[no-untyped-def]
    broken = BrokenSource()
    with transaction(sessions) as session:
        session.info["rulebooks"] = broken
        record = intake.do_record_call(session, agent, call(RUDE, agent, summary="客户咨询宽带"))
    with sessions() as session:
        kept = calls.get_call(session, record.id)
        assert kept.summary == "客户咨询宽带" and kept.qa_score is None
        failed = quality.current_inspection(session, record.id)
        assert failed is not None and failed.status == InspectionStatus.FAILED
        assert "rule engine crashed" in (failed.error or "") and failed.findings == []
    with transaction(sessions) as session:  # the engine is fixed: re-inspect what failed
        redone = quality.do_reinspect(session, None)
    assert [i.call_id for i in redone] == [record.id]
    with sessions() as session:
        inspection = quality.current_inspection(session, record.id)
        assert inspection is not None and inspection.status == InspectionStatus.DONE
        assert calls.get_call(session, record.id).qa_score == inspection.machine_score
        assert [e.action for e in audit.entries(session, entity="inspection")] == ["reinspect"]
    with transaction(sessions) as session:
        assert quality.do_reinspect(session, None) == []  # nothing failed any more


ALLOW_WAIT = """
phrase_sets:
  forbidden:
    remove: [等一下]
"""


def test_published_versions_number_the_scorecards(sessions, agent: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        before = intake.do_record_call(session, agent, call(RUDE, agent))
        draft = rulebooks.do_save_draft(session, agent, ALLOW_WAIT, "「等一下」不再算禁语")
        assert draft.status == RulebookStatus.DRAFT and draft.number is None
        still = intake.do_record_call(session, agent, call(RUDE, agent))  # a draft changes nothing yet
        rulebooks.do_publish(session, agent, draft.id)
        after = intake.do_record_call(session, agent, call(RUDE, agent))
    with sessions() as session:
        old, same, new = (quality.current_inspection(session, c.id) for c in (before, still, after))
        assert old.rulebook_label == same.rulebook_label == "2026.11"  # type: ignore[union-attr]
        assert new.rulebook_label == "2026.11+r1" and new.rulebook_id == draft.id  # type: ignore[union-attr]
        waits = [f for f in new.findings if f.rule == "forbidden_phrase"]  # type: ignore[union-attr]
        assert not any("等一下" in (f.evidence or "") for f in waits)
        assert any("等一下" in (f.evidence or "") for f in old.findings)  # type: ignore[union-attr]
        assert [e.action for e in audit.entries(session, entity="rulebook")] == ["publish", "create"]  # newest first


def test_a_wrong_draft_is_refused_with_its_line(sessions, agent: int) -> None:  # type: ignore[no-untyped-def]
    wrong = "rules:\n  - id: opening\n    points: -5\n"
    with pytest.raises(Invalid, match=r"规则草稿\.yaml:3"), transaction(sessions) as session:
        rulebooks.do_save_draft(session, agent, wrong)
    with sessions() as session:
        assert rulebooks.versions(session) == []


def test_a_published_version_cannot_be_edited_and_stale_drafts_are_refused(sessions, agent: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        draft = rulebooks.do_save_draft(session, agent, ALLOW_WAIT)
    with transaction(sessions) as session:
        rulebooks.do_save_draft(session, agent, ALLOW_WAIT + "\n", draft_id=draft.id, version=draft.version)
    with pytest.raises(Conflict, match="已被他人修改"), transaction(sessions) as session:
        rulebooks.do_save_draft(session, agent, "", draft_id=draft.id, version=draft.version)
    with transaction(sessions) as session:
        rulebooks.do_publish(session, agent, draft.id)
    with pytest.raises(Conflict, match="已发布"), transaction(sessions) as session:
        rulebooks.do_save_draft(session, agent, "", draft_id=draft.id)


def test_overturning_a_finding_raises_the_final_score_not_the_machine_score(sessions, agent: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        record = intake.do_record_call(session, agent, call(RUDE, agent))
    with transaction(sessions) as session:
        inspection = quality.current_inspection(session, record.id)
        assert inspection is not None
        machine = inspection.machine_score
        for finding in inspection.findings:
            finding.review = FindingReview.OVERTURNED
        final = quality.refresh_final_score(session, inspection)
    assert final == 100 and machine is not None and machine < 100
    with sessions() as session:
        assert calls.get_call(session, record.id).qa_score == 100


def test_the_source_caches_each_version(sessions) -> None:  # type: ignore[no-untyped-def]
    source = RulebookSource()
    with sessions() as session:
        first: Active = source.active(session)
        assert source.active(session) is first
