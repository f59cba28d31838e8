"""The audit log as a supervisor reads it: operators by 姓名 and 工号, actions and object kinds
in Chinese, each change as 「字段:原值 → 新值」 with the domains' own field labels, choice values
as their labels, times on the centre's clock and 空 for nothing. The entries are selected by
kefu.core.audit_log; this module reads the users, work orders and calls they name, and writes
nothing. Values are shown as the log keeps them: ID numbers stay masked as they were stored."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls import service as calls
from kefu.calls.models import CallRecord
from kefu.calls.reasons import current_reasons
from kefu.core.audit import AuditAction, AuditEntity, AuditEntry
from kefu.core.choices import ChoiceSet
from kefu.core.clock import on_centre_clock
from kefu.core.fields import CentreTime
from kefu.core.security import Role
from kefu.customers import service as customers
from kefu.jobs.models import JobKind, JobStatus
from kefu.knowledge import service as knowledge
from kefu.knowledge.models import ArticleCategory, ArticleStatus
from kefu.quality.models import AppealStatus, InspectionStatus, Period, ReviewStatus, RulebookStatus
from kefu.rulebook.vocabulary import Channel, Direction, HangupBy
from kefu.workorders import service as workorders
from kefu.workorders.models import OrderType, Priority, Status, WorkOrder

NOTHING = "空"
SYSTEM = "系统"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# Labels the domains keep for their own forms and messages, then what only the log names.
_COMMON_LABELS = {
    "number": "编号",
    "status": "状态",
    "name": "名称",
    "note": "说明",
    "reason": "原因",
    "owner_id": "负责人",
    "assignee_id": "处理人",
    "agent_id": "客服",
    "customer_id": "客户",
    "call_id": "通话",
    "call_ids": "通话",
    "calls": "通话",
    "inspector_id": "质检员",
    "inspector_ids": "质检员",
    "created": "新增条数",
    "ids": "编号",
    "version": "版本",
    "created_at": "创建时间",
    "updated_at": "修改时间",
}
_FIELD_LABELS: dict[str, Mapping[str, str]] = {
    AuditEntity.WORK_ORDER: {
        **workorders.FIELD_LABELS,
        "number": "工单编号",
        "owner_id": "负责人",
        "resolved_at": "解决时间",
        "closed_at": "关闭时间",
        "callback_at": "回访时间",
        "callback_comment": "回访意见",
        "satisfaction": "满意度",
        "escalated": "已升级",
    },
    AuditEntity.CALL: calls.FIELD_LABELS,
    AuditEntity.CUSTOMER: customers.FIELD_LABELS,
    AuditEntity.ARTICLE: knowledge.FIELD_LABELS,
    AuditEntity.USER: {
        "agent_no": "工号",
        "name": "姓名",
        "role": "角色",
        "team": "班组",
        "active": "启用",
        "password": "密码",
        "must_change_password": "须修改密码",
    },
    AuditEntity.APPEAL: {
        "reason": "申诉理由",
        "lead_supports": "班组长支持申诉",
        "lead_opinion": "班组长意见",
        "decision_note": "裁定说明",
        "final_score": "最终得分",
    },
    AuditEntity.REVIEW: {
        "manual_score": "人工评分",
        "final_score": "最终得分",
        "finding": "扣分项",
        "review": "复核结论",
    },
    AuditEntity.RULEBOOK: {"overlay": "规则内容", "number": "版本号", "note": "说明"},
    AuditEntity.SAMPLING_PLAN: {
        "name": "方案名称",
        "active": "启用",
        "period": "周期",
        "per_agent_count": "每人条数",
        "per_agent_percent": "每人比例",
        "score_min": "最低分",
        "score_max": "最高分",
        "min_seconds": "最短通话时长(秒)",
        "max_seconds": "最长通话时长(秒)",
        "directions": "呼叫方向",
        "channels": "渠道",
    },
    AuditEntity.CALIBRATION: {"name": "校准名称"},
}
_CHOICES: dict[str, Mapping[str, type[ChoiceSet]]] = {
    AuditEntity.WORK_ORDER: {"type": OrderType, "priority": Priority, "status": Status},
    AuditEntity.CALL: {"direction": Direction, "channel": Channel, "hangup_by": HangupBy},
    AuditEntity.ARTICLE: {"category": ArticleCategory, "status": ArticleStatus},
    AuditEntity.USER: {"role": Role},
    AuditEntity.APPEAL: {"status": AppealStatus},
    AuditEntity.REVIEW: {"status": ReviewStatus},
    AuditEntity.RULEBOOK: {"status": RulebookStatus},
    AuditEntity.SAMPLING_PLAN: {"period": Period, "directions": Direction, "channels": Channel},
    AuditEntity.INSPECTION: {"status": InspectionStatus},
    AuditEntity.JOB: {"kind": JobKind, "status": JobStatus},
}
# Fields that hold a user's id: shown as 姓名(工号).
_USER_FIELDS = frozenset({"owner_id", "assignee_id", "agent_id", "inspector_id", "inspector_ids", "to_user_id"})
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


class ChangeOut(BaseModel):
    field: str
    label: str
    old: str
    new: str


class AuditRow(BaseModel):
    """One entry as people read it; ``changes`` as stored ({field: [old, new]}) for programs."""

    id: int
    at: CentreTime
    actor_id: int | None
    actor: str  # 姓名(工号), 系统 when no one acted (demo data, scheduled escalation, failed logins)
    action: str
    action_label: str
    entity: str
    entity_label: str
    entity_id: str | None
    object: str  # 「用户 李晓(10001)」「工单 GD20261123-0001」「通话 DEMO-0001」「客户 3」
    changes: dict[str, Any] | None
    changes_shown: list[ChangeOut]
    detail: str | None


def label_of(choices: type[ChoiceSet], value: str) -> str:
    """A stored value's label; a value the set does not (or no longer) know shows as itself."""
    try:
        return choices(value).label
    except ValueError:
        return value


def _person(user: User) -> str:
    return f"{user.name}({user.agent_no})"


class _Names:
    """The users, work orders and calls a page of entries names, read once per page."""

    def __init__(self, session: Session, entries: Sequence[AuditEntry]) -> None:
        user_ids: set[int] = {e.actor_id for e in entries if e.actor_id is not None}
        orders: set[int] = set()
        call_ids: set[int] = set()
        for entry in entries:
            number = _number(entry.entity_id)
            if number is not None:
                {AuditEntity.USER: user_ids, AuditEntity.WORK_ORDER: orders, AuditEntity.CALL: call_ids}.get(
                    entry.entity, set()
                ).add(number)
            for field, pair in (entry.changes or {}).items():
                if field in _USER_FIELDS:
                    user_ids.update(n for n in _flat(pair) if isinstance(n, int) and not isinstance(n, bool))
        self.users = _lookup(session, User, user_ids, _person)
        self.orders = _lookup(session, WorkOrder, orders, lambda order: order.number)
        self.calls = _lookup(session, CallRecord, call_ids, lambda call: call.external_id or str(call.id))

    def user(self, user_id: int) -> str:
        return self.users.get(user_id, f"用户 {user_id}")


def _lookup(session: Session, model: Any, ids: set[int], show: Callable[[Any], str]) -> dict[int, str]:
    if not ids:
        return {}
    return {row.id: show(row) for row in session.scalars(select(model).where(model.id.in_(ids)))}


def _number(text: str | None) -> int | None:
    return int(text) if text is not None and text.isascii() and text.isdigit() and len(text) < 10 else None


def _flat(value: Any) -> Iterable[Any]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _flat(item)
    else:
        yield value


def field_label(entity: str, field: str) -> str:
    return _FIELD_LABELS.get(entity, {}).get(field) or _COMMON_LABELS.get(field) or field


def shown_value(entity: str, field: str, value: Any, names: _Names | None = None) -> str:
    """One value of a change as text: 空, 是/否, labels for choices, names for users, times on
    the centre's clock, lists joined with 、."""
    if value is None or value == "" or value == []:
        return NOTHING
    if isinstance(value, list | tuple):
        return "、".join(shown_value(entity, field, item, names) for item in value)
    if isinstance(value, dict):
        return ";".join(f"{field_label(entity, k)}:{shown_value(entity, k, v, names)}" for k, v in value.items())
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int) and field in _USER_FIELDS and names is not None:
        return names.user(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        choices = _CHOICES.get(entity, {}).get(field)
        if choices is not None:
            return label_of(choices, value)
        if entity == AuditEntity.CALL and field == "reason":
            return current_reasons().label(value)
        if _ISO_TIME.fullmatch(value):
            try:
                return on_centre_clock(datetime.fromisoformat(value)).strftime(TIME_FORMAT)
            except ValueError:
                return value
    return str(value)


def _changes(entry: AuditEntry, names: _Names) -> list[ChangeOut]:
    shown = []
    for field, value in (entry.changes or {}).items():
        # Stored as [old, new]; anything else is what the entry recorded.
        old, new = value if isinstance(value, list) and len(value) == 2 else (None, value)
        shown.append(
            ChangeOut(
                field=field,
                label=field_label(entry.entity, field),
                old=shown_value(entry.entity, field, old, names),
                new=shown_value(entry.entity, field, new, names),
            )
        )
    return shown


def _object(entry: AuditEntry, names: _Names) -> str:
    kind = label_of(AuditEntity, entry.entity)
    if entry.entity_id is None:
        return kind
    number = _number(entry.entity_id)
    shown = {
        AuditEntity.USER: names.users,
        AuditEntity.WORK_ORDER: names.orders,
        AuditEntity.CALL: names.calls,
    }.get(entry.entity, {})
    return f"{kind} {shown.get(number, entry.entity_id) if number is not None else entry.entity_id}"


def excerpts(old: str, new: str, width: int = 120, context: int = 20) -> tuple[str, str]:
    """Two long texts cut to where they differ (with a little of what they share around it), so a
    changed sentence at the end of an article is what the page shows."""
    if len(old) <= width and len(new) <= width:
        return old, new
    same = 0
    while same < min(len(old), len(new)) and old[same] == new[same]:
        same += 1
    tail = 0
    while tail < min(len(old), len(new)) - same and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    start, keep = max(0, same - context), max(0, tail - context)

    def cut(text: str) -> str:
        middle = text[start : len(text) - keep]
        shown = ("…" if start else "") + middle[:width] + ("…" if keep or len(middle) > width else "")
        return shown

    return cut(old), cut(new)


def present(session: Session, entries: Sequence[AuditEntry]) -> list[AuditRow]:
    names = _Names(session, entries)
    return [
        AuditRow(
            id=entry.id,
            at=entry.at,
            actor_id=entry.actor_id,
            actor=SYSTEM if entry.actor_id is None else names.user(entry.actor_id),
            action=entry.action,
            action_label=label_of(AuditAction, entry.action),
            entity=entry.entity,
            entity_label=label_of(AuditEntity, entry.entity),
            entity_id=entry.entity_id,
            object=_object(entry, names),
            changes=entry.changes,
            changes_shown=_changes(entry, names),
            detail=entry.detail,
        )
        for entry in entries
    ]


def operators(session: Session) -> list[tuple[int, str]]:
    """Everyone who may appear as an operator, for the filter: (id, 姓名(工号)), by 工号."""
    return [(user.id, _person(user)) for user in session.scalars(select(User).order_by(User.agent_no))]


EXPORT_COLUMNS = (
    ("at", "时间"),
    ("actor", "操作人"),
    ("action", "操作"),
    ("object", "对象"),
    ("changes", "变更(原值 → 新值)"),
    ("detail", "说明"),
    ("id", "记录编号"),
)


def export_row(row: AuditRow) -> dict[str, Any]:
    """A row of the CSV: what the page shows, one change a line."""
    return {
        "id": row.id,
        "at": row.at,
        "actor": row.actor,
        "action": row.action_label,
        "object": row.object,
        "changes": "\n".join(f"{c.label}:{c.old} → {c.new}" for c in row.changes_shown),
        "detail": row.detail,
    }
