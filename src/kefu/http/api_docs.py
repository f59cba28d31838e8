"""What the OpenAPI description (/api/openapi.json) says an /api operation may answer besides
its result — documented once here, given to every operation by ``create_app``.

Every refusal is JSON with ``detail`` in Chinese; a 422 adds ``errors``, one per field. File
downloads declare their media types (``download_responses``) instead of FastAPI's JSON default.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """Any refusal: what went wrong and what to do, in Chinese."""

    detail: str = Field(description="说明(中文)")


class FieldProblem(BaseModel):
    field: str | None = Field(description="出错的字段,如 transcript.3.start;整体问题时为空")
    message: str = Field(description="原因(中文)")


class ValidationProblem(BaseModel):
    """The answer to input that cannot be accepted (the app's handler of FastAPI's validation
    errors, and the domain's own 422s)."""

    detail: str = Field(description="总述(中文),如「输入有误」")
    errors: list[FieldProblem] = Field(default_factory=list, description="逐项说明")
    missing: list[str] | None = Field(default=None, description="模板还缺少的必填项(新建或解决工单时)")


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("请求无法解析"),
    401: _error("未登录、会话已过期或账号已停用"),
    403: _error("无权执行此操作、需先修改密码,或 CSRF 校验失败"),
    404: _error("所指的对象不存在"),
    409: _error("他人已先保存(版本号已变),或当前状态不允许此操作"),
    413: _error("请求体过大"),
    422: {"model": ValidationProblem, "description": "输入有误:detail 总述,errors 逐项说明"},
    503: {
        "model": ErrorBody,
        "description": "服务繁忙,请稍后重试",
        "headers": {
            "Retry-After": {"description": "建议等待的秒数", "schema": {"type": "integer", "minimum": 0}},
        },
    },
}
"""Given to every /api operation (``FastAPI(responses=…)``); a route may override one status."""

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MEDIA = {"csv": CSV, "xlsx": XLSX}


def download_responses(*formats: str, description: str = "文件下载") -> dict[int | str, dict[str, Any]]:
    """The 200 answer of a route that sends a file (CSV, .xlsx) rather than JSON; use with
    ``response_class=Response`` so that no JSON body is documented."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"description": description, "content": {_MEDIA[f]: binary for f in formats}}}
