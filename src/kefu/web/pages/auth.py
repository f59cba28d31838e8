"""Login, logout and password pages."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from kefu.accounts import service as accounts
from kefu.core.errors import KefuError
from kefu.http.deps import DB, CurrentUser
from kefu.http.session import client_address, end_session, renew_after_password_change, start_session
from kefu.web.pages.common import redirect, render, safe_next

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", None, next=safe_next(next))


@router.post("/login")
def login(
    request: Request, session: DB, agent_no: str = Form(""), password: str = Form(""), next: str = Form("/")
) -> Response:
    settings = request.app.state.settings
    result = accounts.do_login(session, agent_no, password, settings, address=client_address(request))
    if result.user is None:  # the response is a page, so the failed attempt is committed
        return render(
            request, "login.html", None, status_code=401, error=result.error, next=safe_next(next), agent_no=agent_no
        )
    if start_session(request, session, result.user):
        return redirect("/password", accounts.password_change_reason(result.user, settings), request)
    return redirect(safe_next(next))


@router.post("/logout")
def logout(request: Request, session: DB) -> Response:
    end_session(request, session)
    return redirect("/login", "已退出登录", request)


@router.get("/password")
def password_page(request: Request, user: CurrentUser) -> HTMLResponse:
    return render(request, "password.html", user)


@router.post("/password")
def change_password(
    request: Request, user: CurrentUser, session: DB, old: str = Form(""), new: str = Form(""), again: str = Form("")
) -> Response:
    if new != again:
        return render(request, "password.html", user, status_code=422, error="两次输入的新密码不一致")
    try:
        ended = accounts.do_change_password(session, user, old, new)
    except KefuError as error:
        return render(request, "password.html", user, status_code=error.status, error=str(error))
    renew_after_password_change(request, session, user)
    others = ended - 1  # this browser's session was one of them
    return redirect("/", "密码已修改" + (f",其他 {others} 处登录已退出" if others > 0 else ""), request)
