"""What a form, the API or an import may send about a work order; messages in Chinese.

Which fields a type needs is not checked here but in ``service.TEMPLATES`` (it depends on the
order's type and on the step: creating or resolving)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from kefu.core.clock import centre_tz, utc_as_stored
from kefu.core.fields import Id, Version
from kefu.workorders.models import OrderType, Priority, Status

OrderTypeField = Annotated[OrderType, BeforeValidator(OrderType.parse)]
PriorityField = Annotated[Priority, BeforeValidator(Priority.parse)]

MAX_DEPARTMENTS = 20  # a work order that needs more departments is a project, not an order
MIN_TRANSFER_NOTES = 10  # characters: enough for 诉求 + 已做处理, so the customer need not repeat the story
_SPLIT_DEPARTMENTS = re.compile(r"[,,、;;/\s]+")

_TEXT_FIELDS = ("contact", "description", "handling_suggestion", "measures_taken", "follow_up_plan")


def centre_time(value: Any) -> Any:
    """A time without a zone (a form's datetime-local, a spreadsheet cell) is on the centre's
    clock; stored as UTC."""
    if isinstance(value, str) and value.strip():
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("时间格式不正确,应为 2026-11-23 14:30") from None
    if isinstance(value, datetime):
        return utc_as_stored(value.replace(tzinfo=centre_tz()) if value.tzinfo is None else value)
    return None if value == "" else value


class WorkOrderFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, max_length=100)
    priority: PriorityField | None = None
    customer_id: Id | None = None
    contact: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=2000)
    handling_suggestion: str | None = Field(default=None, max_length=1000)
    measures_taken: str | None = Field(default=None, max_length=2000)
    promised_at: Annotated[datetime | None, BeforeValidator(centre_time)] = None
    follow_up_plan: str | None = Field(default=None, max_length=1000)
    departments: list[str] | None = None
    call_id: Id | None = None

    @field_validator(*_TEXT_FIELDS, mode="after")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("title", mode="after")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        if value is not None and not value:
            raise ValueError("工单标题不能为空")
        return value

    @field_validator("departments", mode="before")
    @classmethod
    def _departments(cls, value: Any) -> Any:
        """「技术部、财务部」 or a list; blanks dropped, each once, in order."""
        if value is None:
            return None
        items = _SPLIT_DEPARTMENTS.split(value) if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ValueError("涉及部门应为部门名称列表")
        if len(items) > MAX_DEPARTMENTS:
            raise ValueError(f"涉及部门最多 {MAX_DEPARTMENTS} 个")
        names: list[str] = []
        for item in items:
            name = str(item).strip()
            if len(name) > 64:
                raise ValueError(f"部门名称过长:{name[:20]}…")
            if name and name not in names:
                names.append(name)
        return names


class WorkOrderCreate(WorkOrderFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"type": "consultation", "title": "套餐资费咨询", "description": "客户询问套餐的月租和流量"}]
        }
    )

    type: OrderTypeField
    title: str = Field(max_length=100)
    priority: PriorityField = Priority.MEDIUM
    assignee_id: Id | None = Field(default=None, description="who works on it; the creator if not given")

    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if not data.get("type"):
                raise ValueError("请选择工单类型(咨询类、投诉类、故障类、建议类)")
            if not str(data.get("title") or "").strip():
                raise ValueError("请填写工单标题")
        return data


class WorkOrderUpdate(WorkOrderFields):
    """Only the fields sent are changed; sending ``null`` clears an optional field."""

    version: Version
    type: OrderTypeField | None = None


class Transfer(BaseModel):
    """转派: to a colleague and/or a department, with the background so the customer never has
    to tell the story again (seed 004: 转接时应提供完整的客户信息和问题背景,避免客户重复描述问题)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    to_user_id: Id | None = None
    to_department: str | None = Field(default=None, max_length=64)
    notes: str = Field(default="", max_length=2000, validate_default=True)  # left out: the same 422 as too short

    @field_validator("notes", mode="after")
    @classmethod
    def _notes(cls, value: str) -> str:
        if len(value) < MIN_TRANSFER_NOTES:
            raise ValueError(
                f"转派说明至少 {MIN_TRANSFER_NOTES} 个字:写清客户诉求、已做的处理和待办事项,避免客户重复描述问题"
            )
        return value

    @model_validator(mode="after")
    def _target(self) -> Transfer:
        if self.to_user_id is None and not self.to_department:
            raise ValueError("请选择转派给哪位同事或哪个部门")
        return self


class Callback(BaseModel):
    """回访: how satisfied the customer is with the result (1 很不满意 … 5 很满意)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    satisfaction: int
    comment: str | None = Field(default=None, max_length=500)

    @field_validator("satisfaction", mode="before")
    @classmethod
    def _satisfaction(cls, value: Any) -> int:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise ValueError("满意度应为 1–5 的整数(1 很不满意,5 很满意)")
        return value


class HistoryFilter(BaseModel):
    """A customer's history (seed 004: 可按时间或类型筛选)."""

    model_config = ConfigDict(extra="forbid")

    since: Annotated[datetime | None, BeforeValidator(centre_time)] = None
    until: Annotated[datetime | None, BeforeValidator(centre_time)] = None
    types: list[OrderTypeField] | None = None
    statuses: list[Annotated[Status, BeforeValidator(Status.parse)]] | None = None

    @model_validator(mode="after")
    def _range(self) -> HistoryFilter:
        if self.since and self.until and self.since > self.until:
            raise ValueError("开始时间不能晚于结束时间")
        return self
