"""质检报表 (/quality/reports): charts over the stored scorecards with drill-down to the calls
behind each bar, the Excel export; the calls whose inspection failed and their 重新质检."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from kefu.accounts import service as accounts
from kefu.accounts.models import User
from kefu.core.errors import Invalid
from kefu.core.security import Permission, Role
from kefu.http.deps import DB, CurrentUser, require
from kefu.inspection.charts import Bar, Column, hbars, histogram, num, trend
from kefu.quality import reports
from kefu.quality import service as quality
from kefu.quality.models import InspectionStatus
from kefu.quality.reports import NO_TEAM, NO_TEAM_LABEL, Figures, Group, ReportFilter
from kefu.web.pages.common import form_int, redirect, render

router = APIRouter(include_in_schema=False)

FORM_FIELDS = ("start", "end", "team", "agent_id")
SHOWN_AGENTS = 20


def _form(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip() for k in FORM_FIELDS}


def _scope(form: dict[str, str]) -> tuple[ReportFilter, str | None]:
    """The filters, or the default ones and the problem (shown on the page with a 422)."""
    try:
        return reports.report_filter(**form), None
    except Invalid as problem:
        return reports.report_filter(), str(problem)


def _href(scope: ReportFilter, **extra: str) -> str:
    return "/quality/reports/calls?" + urlencode({**scope.query, **extra})


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{100 * rate:.1f}%"


def _group_bars(groups: list[Group], scope: ReportFilter, kind: str, pass_line: float | None) -> list[Bar]:
    bars = []
    for g in groups:
        link: dict[str, str] = {"team": g.key} if kind == "team" else {"agent_id": g.key}
        bars.append(
            Bar(
                key=g.key,
                name=g.name,
                sub=f"{g.calls} 通 · 合格率 {_percent(g.pass_rate)}",
                count=g.mean_final or 0,
                value=num(g.mean_final) if g.mean_final is not None else "—",
                title=f"{g.name}:{g.calls} 通,平均机检 {g.mean_machine},平均最终 {g.mean_final},合格 {g.passed} 通",
                tone="bad" if pass_line is not None and (g.mean_final or 0) < pass_line else "good",
                href=None if kind == "agent" and g.key == NO_TEAM else _href(scope, **link),
            )
        )
    return bars


def charts(figures: Figures) -> dict[str, Any]:
    scope = figures.filters
    pass_lines = [figures.pass_line] if figures.pass_line is not None else []
    return {
        "histogram": histogram(
            [b.calls for b in figures.buckets], pass_lines, [_href(scope, bucket=str(b.low)) for b in figures.buckets]
        ),
        "trend": trend(
            [
                Column(
                    key=w.key,
                    label=f"{w.monday:%m-%d}",
                    value=w.mean_score,
                    rate=w.pass_rate,
                    title=f"{w.key}(周一 {w.monday}):{w.calls} 通,平均 {w.mean_score if w.calls else '—'},"
                    f"合格率 {_percent(w.pass_rate)}",
                    href=_href(scope, week=w.key),
                )
                for w in figures.weeks
            ],
            "每周趋势",
            figures.pass_line,
        ),
        "rules": hbars(
            [
                Bar(
                    key=r.rule,
                    name=r.rule_name,
                    sub=f"{r.rule} · {r.calls} 通",
                    count=r.findings,
                    title=f"{r.rule_name}({r.rule}):{r.findings} 条,涉及 {r.calls} 通",
                    tone="bad",
                    href=_href(scope, rule=r.rule),
                )
                for r in figures.rules
            ],
            "问题最多的规则",
            kind="rule",
        ),
        "teams": hbars(_group_bars(figures.teams, scope, "team", figures.pass_line), "按班组", "team", scale=100),
        "agents": hbars(
            _group_bars(figures.agents[:SHOWN_AGENTS], scope, "agent", figures.pass_line), "按客服", "agent", scale=100
        ),
    }


def _choices(session: Any) -> tuple[list[str], list[User]]:
    return accounts.teams(session), accounts.list_users(session, role=Role.AGENT)


@router.get("/quality/reports", dependencies=[require(Permission.QA_REPORT)])
def report_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    form = _form(request)
    scope, error = _scope(form)
    figures = reports.figures(session, scope)
    teams, agents = _choices(session)
    return render(
        request,
        "quality_reports.html",
        user,
        status_code=422 if error else 200,
        form={**form, "start": scope.start.isoformat(), "end": scope.end.isoformat()} if error is None else form,
        error=error,
        figures=figures,
        charts=charts(figures),
        teams=teams,
        agents=agents,
        no_team=NO_TEAM,
        no_team_label=NO_TEAM_LABEL,
        query=urlencode(scope.query),
        percent=_percent,
        shown_agents=SHOWN_AGENTS,
    )


@router.get("/quality/reports/calls", dependencies=[require(Permission.QA_REPORT)])
def drill_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    """The calls behind one bar, each linking to its call page."""
    params = request.query_params
    scope = reports.report_filter(*(params.get(k) for k in FORM_FIELDS))
    bucket, week, rule = params.get("bucket"), params.get("week"), params.get("rule")
    rows = reports.calls_behind(session, scope, bucket=bucket, week=week, rule=rule)
    agent = accounts.get_user(session, scope.agent_id) if scope.agent_id is not None else None
    rule_name = next((c.rule_name for c in reports.figures(session, scope, top=1000).rules if c.rule == rule), None)
    title = reports.describe(
        scope,
        bucket=bucket,
        week=week,
        rule=rule,
        rule_name=rule_name,
        agent_name=f"{agent.name}({agent.agent_no})" if agent else None,
    )
    return render(
        request,
        "quality_reports_calls.html",
        user,
        rows=rows,
        title=title,
        back="/quality/reports?" + urlencode(scope.query),
    )


@router.get("/quality/reports/failed", dependencies=[require(Permission.QA_REPORT)])
def failed_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    return render(request, "quality_reports_failed.html", user, failed=reports.failed_calls(session))


@router.post("/quality/reinspect", dependencies=[require(Permission.QA_REVIEW)])
async def reinspect(request: Request, user: CurrentUser, session: DB) -> Response:
    """One call (``call_id``: its call page's button) or every failed one (the list's button)."""
    form = await request.form()
    raw = str(form.get("call_id", "")).strip()
    if raw:
        call_id = form_int(raw)
        if call_id is None:
            raise Invalid(f"通话「{raw}」不存在")
        done = quality.do_reinspect(session, user.id, call_ids=[call_id], failed_only=False)
        if not done:
            return redirect(f"/calls/{call_id}", "该通话没有转写,无法质检", request)
        ok = done[0].status == InspectionStatus.DONE
        return redirect(f"/calls/{call_id}", "已重新质检" if ok else "重新质检仍然失败,请联系管理员", request)
    done = quality.do_reinspect(session, user.id)
    failed = sum(1 for i in done if i.status == InspectionStatus.FAILED)
    message = f"已重新质检 {len(done)} 通" + (f",其中 {failed} 通仍然失败" if failed else "")
    return redirect("/quality/reports/failed", message if done else "没有质检失败的通话", request)
