"""What a form, the API or an import may send about a work order, and what they get back;
messages in Chinese.

Which fields a type needs is not checked here but in ``service.TEMPLATES`` (it depends on the
order's type and on the step: creating or resolving). Each action (start, wait, …) has its body
here; the API and the pages send the same bodies to ``service.do_action``."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from kefu.core.fields import CentreTime, Id, IncomingTime, Version
from kefu.workorders.models import EventKind, OrderType, Priority, Status

OrderTypeField = Annotated[OrderType, BeforeValidator(OrderType.parse)]
PriorityField = Annotated[Priority, BeforeValidator(Priority.parse)]

MAX_DEPARTMENTS = 20  # a work order that needs more departments is a project, not an order
MIN_TRANSFER_NOTES = 10  # characters: enough for 诉求 + 已做处理, so the customer need not repeat the story
_SPLIT_DEPARTMENTS = re.compile(r"[,,、;;/\s]+")

_TEXT_FIELDS = ("contact", "description", "handling_suggestion", "measures_taken", "follow_up_plan")


class WorkOrderFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, max_length=100)
    priority: PriorityField | None = None
    customer_id: Id | None = None
    contact: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=2000)
    handling_suggestion: str | None = Field(default=None, max_length=1000)
    measures_taken: str | None = Field(default=None, max_length=2000)
    promised_at: IncomingTime | None = None
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

    since: IncomingTime | None = None
    until: IncomingTime | None = None
    types: list[OrderTypeField] | None = None
    statuses: list[Annotated[Status, BeforeValidator(Status.parse)]] | None = None

    @model_validator(mode="after")
    def _range(self) -> HistoryFilter:
        if self.since and self.until and self.since > self.until:
            raise ValueError("开始时间不能晚于结束时间")
        return self


# ---------------------------------------------------------------- the list


class WorkOrderFilter(BaseModel):
    """Which orders a list shows (GET /api/workorders, the page, the export). Choices are
    accepted by value or by label."""

    status: Annotated[Status | None, BeforeValidator(lambda v: Status.parse(v) if v else None)] = None
    type: Annotated[OrderType | None, BeforeValidator(lambda v: OrderType.parse(v) if v else None)] = None
    priority: Annotated[Priority | None, BeforeValidator(lambda v: Priority.parse(v) if v else None)] = None
    mine: bool = Field(default=False, description="only orders I own or work on")
    overdue: bool = Field(default=False, description="only orders past a deadline")
    q: str | None = Field(default=None, max_length=200, description="text in the number, title or description")
    sort: Literal["recent", "deadline"] = Field(
        default="recent", description="recent: newest first; deadline: my open orders, soonest deadline first"
    )
    limit: int = Field(default=200, ge=1, le=1000)


# ---------------------------------------------------------------- actions


class Step(BaseModel):
    """An action with an optional note; ``version``: the version the user saw (optimistic locking)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str | None = Field(default=None, max_length=2000)
    version: Version | None = None

    @field_validator("note", mode="after")
    @classmethod
    def _blank_note(cls, value: str | None) -> str | None:
        return value or None


class Start(Step):
    """受理: 待处理 → 处理中."""


class Resume(Step):
    """待客户回复 → 处理中."""


class Close(Step):
    """已解决 → 已关闭."""


class Wait(Step):
    """处理中 → 待客户回复: the SLA clocks stand still."""

    note: str = Field(default="", max_length=2000, description="what is awaited from the customer")


class Note(Wait):
    """跟进: a note on the timeline."""

    note: str = Field(default="", max_length=2000, description="the follow-up")


class Resolve(Step):
    measures_taken: str | None = Field(default=None, max_length=2000)


class Reopen(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(default="", max_length=2000)
    version: Version | None = None


class Classify(Step):
    category: str = Field(default="", max_length=32)
    priority: str | None = None


class Assign(Step):
    assignee_id: Id


class TransferAction(Transfer):
    version: Version | None = None


class CallbackAction(Callback):
    version: Version | None = None


WorkOrderAction = (
    Start | Wait | Resume | Classify | TransferAction | Assign | Resolve | CallbackAction | Reopen | Close | Note
)
ACTIONS: dict[str, type[WorkOrderAction]] = {
    "start": Start,
    "wait": Wait,
    "resume": Resume,
    "classify": Classify,
    "transfer": TransferAction,
    "assign": Assign,
    "resolve": Resolve,
    "callback": CallbackAction,
    "reopen": Reopen,
    "close": Close,
    "note": Note,
}
"""Each action by the name its route and its form use."""


# ---------------------------------------------------------------- answers


class PersonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    agent_no: str
    name: str


class DeadlineOut(BaseModel):
    name: str
    limit: str | None = Field(description="the time allowed, e.g. 4 小时(工作时间)")
    due: CentreTime | None
    met_at: CentreTime | None
    remaining_minutes: int | None
    state: Literal["met", "late", "overdue", "paused", "running", "pending"]
    text: str = Field(description="the state for people, e.g. 剩余 2 小时 10 分钟(工作时间)")


class EventOut(BaseModel):
    id: int | None
    at: CentreTime
    kind: EventKind
    kind_label: str
    actor: PersonOut | None
    note: str | None
    from_status: Status | None
    to_status: Status | None
    data: dict[str, Any] | None


class WorkOrderSummary(BaseModel):
    """An order in a list; the customer's name and contact as the reader may see them."""

    id: int
    number: str
    version: int
    type: OrderType
    type_label: str
    priority: Priority
    priority_label: str
    status: Status
    status_label: str
    title: str
    customer_id: int | None
    customer_name: str | None
    contact: str | None
    description: str | None
    handling_suggestion: str | None
    measures_taken: str | None
    promised_at: CentreTime | None
    follow_up_plan: str | None
    departments: list[str]
    complaint_category: str | None
    owner: PersonOut | None
    assignee: PersonOut | None
    department: str | None
    call_id: int | None
    created_at: CentreTime
    updated_at: CentreTime
    resolved_at: CentreTime | None
    closed_at: CentreTime | None
    satisfaction: int | None
    callback_comment: str | None
    escalated: bool
    overdue: bool
    next_due: CentreTime | None
    allowed_actions: list[str] = Field(description="the actions the status allows, if the reader may change the order")


class WorkOrderOut(WorkOrderSummary):
    """One order with its SLA deadlines and its timeline."""

    deadlines: list[DeadlineOut]
    timeline: list[EventOut]
