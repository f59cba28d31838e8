"""抽检方案 page: the plans (create, change), running a plan for a period, the runs with their
review task counts."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from kefu.calls.models import Channel, Direction
from kefu.calls.reasons import current_reasons
from kefu.core.errors import Invalid
from kefu.core.fields import Id
from kefu.core.security import Permission
from kefu.http.deps import DB, CurrentUser, require
from kefu.quality import sampling
from kefu.quality.models import Period
from kefu.web.pages.common import form_int, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[require(Permission.QA_REVIEW)])


def _number(form: FormData, key: str, label: str, kind: type = float) -> Any:
    text = str(form.get(key) or "").strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise Invalid(f"{label}应为{'整数' if kind is int else '数字'}") from None


def _plan_from_form(form: FormData) -> dict[str, Any]:
    filters = {
        "score_min": _number(form, "score_min", "最低分"),
        "score_max": _number(form, "score_max", "最高分"),
        "min_seconds": _number(form, "min_seconds", "最短通话时长"),
        "max_seconds": _number(form, "max_seconds", "最长通话时长"),
        "rules": form.getlist("rules"),
        "directions": form.getlist("directions"),
        "channels": form.getlist("channels"),
        "reasons": form.getlist("reasons"),
    }
    size_kind = str(form.get("size_kind") or "count")
    size = str(form.get("size") or "").strip()
    return {
        "name": str(form.get("name") or ""),
        "period": str(form.get("period") or ""),
        "per_agent_count": _number(form, "size", "每人抽检量", int) if size_kind == "count" and size else None,
        "per_agent_percent": _number(form, "size", "每人抽检比例") if size_kind == "percent" and size else None,
        "filters": {k: v for k, v in filters.items() if v not in (None, [])},
        "inspector_ids": [i for i in map(form_int, form.getlist("inspector_ids")) if i is not None] or None,
        "active": form.get("active") == "on",
    }


@router.get("/quality/sampling")
def sampling_page(request: Request, user: CurrentUser, session: DB, edit: int | None = None) -> HTMLResponse:
    plans = sampling.list_plans(session)
    runs = sampling.list_runs(session)
    editing = sampling.get_plan(session, edit) if edit is not None else None
    return render(
        request,
        "quality_sampling.html",
        user,
        plans=plans,
        runs=runs,
        counts=sampling.run_task_counts(session, [r.id for r in runs]),
        run_labels={r.id: (sampling.run_window(r).label, sampling.local_label(r.created_at)) for r in runs},
        editing=editing,
        windows={p.id: sampling.period_window(p.period) for p in plans},
        periods=[(p.value, p.label) for p in Period],
        rules=sampling.findings_rules(session),
        reasons=current_reasons().choices(),
        directions=[(d.value, d.label) for d in Direction],
        channels=[(c.value, c.label) for c in Channel],
        inspectors=sampling.qa_inspectors(session),
    )


@router.post("/quality/sampling/plans")
async def save_plan(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    form = await request.form()
    plan_id = _number(form, "plan_id", "方案编号", int)
    version = _number(form, "version", "版本号", int)
    plan = sampling.do_save_plan(session, user.id, _plan_from_form(form), plan_id=plan_id, version=version)
    return redirect("/quality/sampling", f"抽检方案「{plan.name}」已保存", request)


@router.post("/quality/sampling/plans/{plan_id:int}/run")
async def run_plan(request: Request, plan_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    form = await request.form()
    text = str(form.get("period_start") or "").strip()
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        raise Invalid("日期格式应为 YYYY-MM-DD") from None
    result = sampling.do_run_plan(session, user.id, plan_id, day)
    window = sampling.run_window(result.run)
    message = f"已抽取 {window.label} 的通话 {result.run.calls} 通,生成复核任务 {len(result.reviews)} 项"
    return redirect("/quality/sampling", message, request)
