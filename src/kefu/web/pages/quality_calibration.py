"""质检校准: calibration sessions, the form that starts one, and the figures of each."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from kefu.accounts import service as accounts
from kefu.calls import service as calls
from kefu.core.db import attempt
from kefu.core.errors import Invalid
from kefu.core.fields import Id
from kefu.core.privacy import Reader
from kefu.core.security import Permission
from kefu.http.deps import DB, CurrentUser, CustomerReader, require
from kefu.quality import calibration as service
from kefu.quality.calibration import CalibrationIn
from kefu.quality.models import ReviewStatus
from kefu.quality.service import recently_inspected
from kefu.web.pages.common import form_body, form_problems, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[require(Permission.QA_REVIEW)])

CHOICES = 40  # recent inspected calls offered by the form


def _form_choices(session: DB, reader: Reader) -> dict[str, object]:
    inspectors = accounts.list_users(session, active_only=True, permission=Permission.QA_REVIEW)
    choices = [(c, calls.present(c, reader), c.qa_score) for c in recently_inspected(session, CHOICES)]
    return {"inspectors": inspectors, "call_choices": choices}


@router.get("/quality/calibration")
def calibration_list(request: Request, reader: CustomerReader, session: DB) -> HTMLResponse:
    return render(
        request,
        "quality_calibration.html",
        reader.user,
        sessions=service.list_calibrations(session),
        view=None,
        **_form_choices(session, reader),
    )


@router.get("/quality/calibration/{calibration_id:int}")
def calibration_page(request: Request, calibration_id: Id, reader: CustomerReader, session: DB) -> HTMLResponse:
    view = service.calibration_figures(session, calibration_id)
    grid: dict[int, dict[int, object]] = {}
    for review in view.reviews:
        grid.setdefault(review.call_id, {})[review.inspector_id] = review
    return render(
        request,
        "quality_calibration.html",
        reader.user,
        sessions=service.list_calibrations(session),
        view=view,
        grid=grid,
        DONE=ReviewStatus.DONE,
        **_form_choices(session, reader),
    )


FIELDS = {"name": "名称", "call_ids": "通话", "inspector_ids": "质检员", "reference_id": "基准质检员"}


@router.post("/quality/calibration")
async def create_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    form = await request.form()
    try:
        body = form_body(CalibrationIn, form)
        with attempt(session):
            calibration = service.do_create_calibration(
                session, user.id, body.name, body.call_ids, body.inspector_ids, body.reference_id
            )
    except ValidationError as problem:
        return redirect("/quality/calibration", f"未创建:{form_problems(problem, FIELDS)}", request)
    except Invalid as error:
        return redirect("/quality/calibration", f"未创建:{error}", request)
    return redirect(
        f"/quality/calibration/{calibration.id}", f"已创建校准「{calibration.name}」,复核任务已派发", request
    )
