"""The web application: pages for people, ``/api`` for programs, the same services behind both."""

from __future__ import annotations

from http.client import responses as http_phrases
from importlib import resources
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from kefu.accounts.models import User
from kefu.core import validation
from kefu.core.clock import centre_tz
from kefu.core.db import make_engine, migrate, session_factory
from kefu.core.errors import KefuError
from kefu.core.settings import Settings, get_settings
from kefu.http.api_docs import ERROR_RESPONSES
from kefu.http.deps import LoginRequired, PasswordChangeRequired, check_csrf
from kefu.http.session import SessionCookies, logged_in
from kefu.quality.rulebooks import RulebookSource
from kefu.web.admission import AdmissionControl
from kefu.web.headers import SecurityHeaders, security_headers
from kefu.web.input_guard import InputGuard
from kefu.web.lifespan import lifespan
from kefu.web.templating import page_context, templates


def routers() -> list[APIRouter]:
    """Every domain's API and pages. A new domain adds its two routers here."""
    from kefu.accounts.api import admin_router as sessions_api
    from kefu.accounts.api import router as auth_api
    from kefu.assist.api import router as assist_api
    from kefu.calls.api import router as calls_api
    from kefu.customers.api import router as customers_api
    from kefu.dataio.api import router as dataio_api
    from kefu.jobs.api import router as jobs_api
    from kefu.knowledge.api import router as knowledge_api
    from kefu.performance.api import router as performance_api
    from kefu.quality.api import appeals as quality_appeals_api
    from kefu.quality.api import calibration as quality_calibration_api
    from kefu.quality.api import reports as quality_reports_api
    from kefu.quality.api import reviews as quality_reviews_api
    from kefu.quality.api import rulebooks as quality_rulebooks_api
    from kefu.quality.api import sampling as quality_sampling_api
    from kefu.training.api import router as training_api
    from kefu.web import audit_api
    from kefu.web.pages import assist as assist_pages
    from kefu.web.pages import audit as audit_pages
    from kefu.web.pages import auth, calls, customers, imports, workbench, workorders
    from kefu.web.pages import knowledge as knowledge_pages
    from kefu.web.pages import performance as performance_pages
    from kefu.web.pages import quality_appeals as quality_appeals_pages
    from kefu.web.pages import quality_calibration as quality_calibration_pages
    from kefu.web.pages import quality_reports as quality_reports_pages
    from kefu.web.pages import quality_reviews as quality_reviews_pages
    from kefu.web.pages import quality_rulebooks as quality_rulebooks_pages
    from kefu.web.pages import quality_sampling as quality_sampling_pages
    from kefu.web.pages import sessions as session_pages
    from kefu.web.pages import training as training_pages
    from kefu.web.pages import workforce as workforce_pages
    from kefu.workforce.api import router as workforce_api
    from kefu.workorders.api import router as workorders_api

    return [
        auth_api,
        sessions_api,
        dataio_api,  # before customers_api: /api/customers/export is not /api/customers/{customer_id}
        jobs_api,
        customers_api,
        calls_api,
        workorders_api,
        knowledge_api,
        performance_api,
        workforce_api,
        training_api,
        audit_api.router,
        auth.router,
        session_pages.router,
        workbench.router,
        customers.router,
        calls.router,
        imports.router,
        workorders.router,
        knowledge_pages.router,
        performance_pages.router,
        workforce_pages.router,
        training_pages.router,
        audit_pages.router,
        assist_api,
        assist_pages.router,
        quality_rulebooks_api.router,
        quality_rulebooks_pages.router,
        quality_appeals_api.router,
        quality_calibration_api.router,
        quality_appeals_pages.router,
        quality_calibration_pages.router,
        quality_reports_api.router,
        quality_reports_pages.router,
        quality_reviews_api.router,
        quality_sampling_api.router,
        quality_reviews_pages.router,
        quality_sampling_pages.router,
    ]


# The framework's own refusals (no such route, wrong method, a body it cannot parse), in Chinese.
HTTP_PROBLEMS = {
    400: "请求无法解析,请检查格式后重试",
    404: "没有这个页面或接口",
    405: "不支持这种请求方式",
}
SERVER_ERROR = "服务器内部错误,请稍后重试;如果一再出现,请联系管理员"


def _session_user(request: Request) -> User | None:
    """The logged-in user for an error page's header (it only shows the name)."""
    with request.app.state.sessions() as session:
        found = logged_in(request, session, touch=False)
        return found.user if found.problem is None else None


def create_app(settings: Settings | None = None, *, run_migrations: bool = True) -> FastAPI:
    settings = settings or get_settings()
    if run_migrations:
        migrate(settings.database)
    app = FastAPI(
        title="kefu 客服",
        version="0.1.0",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        dependencies=[Depends(check_csrf)],
        responses=ERROR_RESPONSES,  # every /api operation's refusals, documented once (kefu.http.api_docs)
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = make_engine(
        settings.database, pool_size=settings.pool_size, pool_timeout=settings.db_pool_timeout
    )
    # The rulebook calls are inspected with: the files on the centre's clock, under the version
    # published in the database (kefu.quality.rulebooks); every session carries it.
    app.state.rulebooks = RulebookSource(files=list(settings.rules), zone=centre_tz())
    app.state.sessions = session_factory(app.state.engine, rulebooks=app.state.rulebooks)
    # The files' rulebook on the centre's clock (the knowledge base's scripts): the source's
    # "nothing published" entry, built once and cached there for the inspector too.
    app.state.rulebook = app.state.rulebooks.prepare(None).rulebook
    app.state.escalation = None  # the EscalationLoop while the app runs (see kefu.web.lifespan)
    app.add_middleware(InputGuard)  # body size, JSON depth, non-finite numbers, NUL (kefu.web.input_guard)
    app.add_middleware(
        SessionCookies,  # Secure over HTTPS (kefu.http.session); the login itself lives on the server
        secret_key=settings.signing_key(),
        same_site="lax",
        max_age=12 * 3600,
        always_secure=settings.https,
    )
    # Outside the session (which reads the database), inside the security headers: a refused
    # request costs nothing and its 503 still carries the headers (kefu.web.admission).
    app.add_middleware(
        AdmissionControl,
        limit=settings.max_concurrent_requests,
        wait_ms=settings.admission_wait_ms,
        retry_after=settings.retry_after_seconds,
    )
    app.add_middleware(SecurityHeaders, https=settings.https)
    if settings.trusted_proxies.strip():  # outermost: every layer sees the real client and scheme
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.mount("/static", StaticFiles(directory=str(resources.files("kefu.web") / "static")), name="static")

    for router in routers():
        app.include_router(router)

    @app.exception_handler(KefuError)
    async def kefu_error(request: Request, error: KefuError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({**error.details, "detail": str(error)}, status_code=error.status)
        if isinstance(error, LoginRequired):
            target = quote(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))
            request.session["flash"] = str(error)
            return RedirectResponse(f"/login?next={target}", status_code=303)
        if isinstance(error, PasswordChangeRequired):
            request.session["flash"] = str(error)
            return RedirectResponse("/password", status_code=303)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"message": str(error), "status": error.status, **page_context(_session_user(request))},
            status_code=error.status,
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        generic = error.detail in (http_phrases.get(error.status_code), "There was an error parsing the body")
        detail = HTTP_PROBLEMS.get(error.status_code, str(error.detail)) if generic else str(error.detail)
        if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
            return JSONResponse({"detail": detail}, status_code=error.status_code, headers=error.headers)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"message": detail, "status": error.status_code, **page_context(_session_user(request))},
            status_code=error.status_code,
            headers=error.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        problems = [{"field": validation.field(e["loc"]), "message": validation.message(e)} for e in error.errors()]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "输入有误", "errors": problems}, status_code=422)
        message = ";".join(f"{p['field']}:{p['message']}" for p in problems)
        return templates.TemplateResponse(
            request, "error.html", {"message": message, **page_context(_session_user(request))}, status_code=422
        )

    # A bug: Chinese for people and programs alike, the trace in the server's log (Starlette logs
    # it and re-raises after this answer). No database read here: it may be what failed.
    @app.exception_handler(Exception)
    async def server_error(request: Request, error: Exception) -> Response:
        # Answered outside the middleware (Starlette's outermost error handler): the security
        # headers are added here.
        headers = security_headers(request.url.path, settings.https or request.url.scheme == "https")
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": SERVER_ERROR}, status_code=500, headers=headers)
        context = {"message": SERVER_ERROR, "status": 500, **page_context(None)}
        return templates.TemplateResponse(request, "error.html", context, status_code=500, headers=headers)

    return app
