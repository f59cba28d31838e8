"""/api/calls: list, record, correct, the work-order draft and the scorecard. Thin: see service.py.

Reading calls needs ``customer.view`` (a call carries the customer's number and words), writing
them ``call.edit``. Paths use ``{call_id:int}`` so that ``/api/calls/export`` (kefu.dataio.api)
never reaches these routes, whatever the order the routers are included in.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import ValidationError

from kefu.calls import service as calls
from kefu.calls.reasons import current_reasons
from kefu.calls.schemas import CallCreate, CallFilter, CallOut, CallUpdate, ReasonOut, WorkOrderDraft
from kefu.core import validation
from kefu.core.errors import Invalid
from kefu.core.fields import Id, Offset
from kefu.core.security import Permission
from kefu.flows import intake
from kefu.http.deps import DB, CustomerReader, require
from kefu.quality.card import CallScorecardOut, scorecard

router = APIRouter(prefix="/api/calls", tags=["calls"])


FILTER_LABELS = {
    "start": "开始时间",
    "end": "结束时间",
    "agent_id": "客服",
    "customer_id": "客户",
    "reason": "来电原因",
    "direction": "呼叫方向",
    "channel": "渠道",
    "night_service": "夜间服务",
    "answered": "是否接听",
}


def call_filters(
    start: str | None = None,
    end: str | None = None,
    agent_id: str | None = None,
    customer_id: str | None = None,
    reason: str | None = None,
    direction: str | None = None,
    channel: str | None = None,
    night_service: str | None = None,
    answered: str | None = None,
) -> CallFilter:
    """The list filters from the query string (API and pages alike); empty values are no filter.
    Invalid ones are a 422 naming the filter in Chinese."""
    given = {k: v for k, v in locals().items() if v is not None and v.strip() != ""}
    try:
        return CallFilter.model_validate(given)
    except ValidationError as error:
        problems = []
        for problem in error.errors(include_url=False):
            loc = problem.get("loc") or ()
            label = FILTER_LABELS.get(str(loc[0]), str(loc[0])) + ":" if loc else ""
            problems.append(label + validation.message(problem))
        raise Invalid("筛选条件有误:" + ";".join(problems)) from None


Filters = Annotated[CallFilter, Depends(call_filters)]


@router.get("", dependencies=[require(Permission.CUSTOMER_VIEW)])
def list_calls(
    reader: CustomerReader,
    session: DB,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Offset = 0,
) -> list[CallOut]:
    """Newest first. ``start``/``end`` are ring times (without a zone: the centre's clock);
    ``reason`` is a code or its Chinese label; ``direction`` inbound/outbound or 呼入/呼出.
    Only the calls the user may read: an agent's own, a team lead's team's, everyone's for QA."""
    found = calls.list_calls(session, filters, limit=limit, offset=offset, viewer=reader.user)
    return [calls.present(c, reader) for c in found]


@router.get("/reasons", dependencies=[require(Permission.CUSTOMER_VIEW)])
def reasons() -> list[ReasonOut]:
    """The 来电原因 an agent can choose, in the centre's order."""
    return [ReasonOut(code=r.code, label=r.label, group=r.group) for r in current_reasons() if r.active]


@router.post("", status_code=201, dependencies=[require(Permission.CALL_EDIT)])
def create_call(body: CallCreate, reader: CustomerReader, session: DB) -> CallOut:
    """Every call needs a reason; the transcript (「客服: …」 lines or SPEC §2 JSON) is checked
    and a problem names its line. Without ``agent_id`` the call is the caller's own; an agent
    records calls in their own name only, a team lead for the team."""
    return calls.present(intake.do_record_call(session, reader.user.id, body), reader)


@router.get("/{call_id:int}", dependencies=[require(Permission.CUSTOMER_VIEW)])
def get_call(call_id: Id, reader: CustomerReader, session: DB) -> CallOut:
    return calls.present(calls.read_call(session, reader.user, call_id), reader)


@router.patch("/{call_id:int}", dependencies=[require(Permission.CALL_EDIT)])
def update_call(call_id: Id, body: CallUpdate, reader: CustomerReader, session: DB) -> CallOut:
    """Only the fields sent change; ``version`` must be the one read (409 otherwise). An agent
    corrects their own calls only, a team lead the team's."""
    return calls.present(intake.do_correct_call(session, reader.user.id, call_id, body), reader)


@router.get("/{call_id:int}/workorder-draft", dependencies=[require(Permission.CUSTOMER_VIEW)])
def workorder_draft(call_id: Id, reader: CustomerReader, session: DB) -> WorkOrderDraft:
    """What a work order created from this call starts with (customer, contact, summary, …),
    personal data masked until the caller's identity is checked."""
    return calls.work_order_draft(calls.read_call(session, reader.user, call_id), reader)


@router.get("/{call_id:int}/inspection", dependencies=[require(Permission.CUSTOMER_VIEW)])
def inspection(call_id: Id, reader: CustomerReader, session: DB) -> CallScorecardOut:
    """The stored scorecard of the call: its current inspection, the rulebook version that
    produced it and its findings (never re-inspected here). ``applicable`` is false for a call
    without a transcript; ``status`` failed: the inspection failed and waits for 重新质检."""
    return scorecard(session, calls.read_call(session, reader.user, call_id), reader).public()
