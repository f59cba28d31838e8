"""/api/quality/sampling: sampling plans (list, create, change, delete), running a plan for a
period, and the runs with their task counts. Thin: see kefu.quality.sampling."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from kefu.core.fields import CentreTime, Id, Version
from kefu.core.security import Permission
from kefu.http.deps import DB, CurrentUser, require
from kefu.quality import sampling
from kefu.quality.models import SamplingPlan, SamplingRun
from kefu.quality.sampling import PlanData

router = APIRouter(prefix="/api/quality/sampling", tags=["质检"], dependencies=[require(Permission.QA_REVIEW)])


class PlanOut(BaseModel):
    id: int
    version: int
    name: str
    period: str
    period_label: str
    per_agent_count: int | None
    per_agent_percent: float | None
    filters: dict[str, Any]
    inspector_ids: list[int] | None
    active: bool

    @classmethod
    def of(cls, plan: SamplingPlan) -> PlanOut:
        return cls(
            id=plan.id,
            version=plan.version,
            name=plan.name,
            period=plan.period.value,
            period_label=plan.period.label,
            per_agent_count=plan.per_agent_count,
            per_agent_percent=plan.per_agent_percent,
            filters=plan.filters or {},
            inspector_ids=plan.inspector_ids,
            active=plan.active,
        )


class PlanUpdate(PlanData):
    version: Version


class RunIn(BaseModel):
    period_start: date | None = None  # any day of the period; none: the previous complete period
    seed: int | None = None


class RunOut(BaseModel):
    id: int
    plan_id: int
    plan: str
    period_start: CentreTime
    period_end: CentreTime
    calls: int
    open: int
    done: int
    review_ids: list[int] = []

    @classmethod
    def of(cls, run: SamplingRun, counts: dict[str, int], review_ids: list[int] | None = None) -> RunOut:
        return cls(
            id=run.id,
            plan_id=run.plan_id,
            plan=run.plan.name,
            period_start=run.period_start,
            period_end=run.period_end,
            calls=run.calls,
            open=counts.get("open", 0),
            done=counts.get("done", 0),
            review_ids=review_ids or [],
        )


@router.get("/plans")
def plans(session: DB) -> list[PlanOut]:
    return [PlanOut.of(p) for p in sampling.list_plans(session)]


@router.post("/plans", status_code=201)
def create_plan(data: PlanData, user: CurrentUser, session: DB) -> PlanOut:
    return PlanOut.of(sampling.do_save_plan(session, user.id, data))


@router.put("/plans/{plan_id}")
def update_plan(plan_id: Id, data: PlanUpdate, user: CurrentUser, session: DB) -> PlanOut:
    plain = PlanData.model_validate(data.model_dump(exclude={"version"}))
    return PlanOut.of(sampling.do_save_plan(session, user.id, plain, plan_id=plan_id, version=data.version))


@router.delete("/plans/{plan_id}", status_code=204)
def delete_plan(plan_id: Id, user: CurrentUser, session: DB, version: Version | None = None) -> None:
    sampling.do_delete_plan(session, user.id, plan_id, version=version)


@router.post("/plans/{plan_id}/run", status_code=201)
def run_plan(plan_id: Id, data: RunIn, user: CurrentUser, session: DB) -> RunOut:
    result = sampling.do_run_plan(session, user.id, plan_id, data.period_start, seed=data.seed)
    counts = {"open": len(result.reviews), "done": 0}
    return RunOut.of(result.run, counts, [r.id for r in result.reviews])


@router.get("/runs")
def runs(session: DB, plan_id: Id | None = None) -> list[RunOut]:
    found = sampling.list_runs(session, plan_id)
    counts = sampling.run_task_counts(session, [r.id for r in found])
    return [RunOut.of(r, counts.get(r.id, {})) for r in found]
