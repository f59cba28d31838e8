"""The audit log: who did what, when, to which record, with old and new values.

Every write in a service goes through a ``do_*`` function that calls ``record`` in the same
transaction, so a change and its audit entry are saved together or not at all.

``record`` masks on the way in, so no caller can forget: secrets (passwords, tokens) are never
stored, ID numbers keep only their first character, and ID-number-like digit runs in the free
text are masked too. Auditors see that a value changed, not the value.

Reading the log (filters, pages, export) is kefu.core.audit_log; how an entry reads for a
supervisor (names, Chinese labels) is kefu.overviews.audit_trail.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kefu.core.choices import ChoiceSet
from kefu.core.db import Base, utcnow


class AuditAction(ChoiceSet, title="操作"):
    CREATE = "create", "新建", "success"
    UPDATE = "update", "修改", "primary"
    DELETE = "delete", "删除", "danger"
    VIEW = "view", "查看"
    LOOKUP = "lookup", "查询"
    READ = "read", "阅读"
    REVEAL = "reveal", "查看未脱敏信息", "warning"
    VERIFY = "verify", "身份验证", "info"
    LOGIN = "login", "登录", "info"
    LOGIN_FAILED = "login_failed", "登录失败", "warning"
    LOGIN_THROTTLED = "login_throttled", "登录受限", "danger"
    LOGOUT = "logout", "退出登录", "info"
    SESSION_END = "session_end", "结束登录会话", "warning"
    PASSWORD_CHANGE = "password_change", "修改密码", "warning"
    IMPORT = "import", "导入", "primary"
    EXPORT = "export", "导出", "primary"
    DOWNLOAD = "download", "下载"
    START = "start", "开始处理", "primary"
    WAIT = "wait", "等待客户回复"
    RESUME = "resume", "恢复处理", "primary"
    CLASSIFY = "classify", "分类定级"
    RESOLVE = "resolve", "解决", "success"
    CLOSE = "close", "关闭", "dark"
    REOPEN = "reopen", "重新打开", "warning"
    ASSIGN = "assign", "指派"
    TRANSFER = "transfer", "转派"
    NOTE = "note", "跟进"
    CALLBACK = "callback", "回访"
    ESCALATE = "escalate", "升级", "danger"
    RUN = "run", "运行"
    REINSPECT = "reinspect", "重新质检"
    ADD_FINDING = "add_finding", "补充扣分项"
    REMOVE_FINDING = "remove_finding", "取消扣分项"
    COMPLETE = "complete", "完成", "success"
    JUDGE = "judge", "评定"
    LEAD_OPINION = "lead_opinion", "班组长意见"
    DECIDE = "decide", "裁定"
    PUBLISH = "publish", "发布", "success"
    REVISE = "revise", "发布修订版", "warning"
    APPROVE = "approve", "批准", "success"
    REFUSE = "refuse", "拒绝", "danger"
    AGREE = "agree", "同意"
    CANCEL = "cancel", "撤回", "secondary"


class AuditEntity(ChoiceSet, title="对象类型"):
    USER = "user", "用户"
    CUSTOMER = "customer", "客户"
    CALL = "call", "通话"
    WORK_ORDER = "work_order", "工单"
    ARTICLE = "article", "知识文章"
    KNOWLEDGE = "knowledge", "知识库"
    INSPECTION = "inspection", "质检结果"
    RULEBOOK = "rulebook", "规则库"
    SAMPLING_PLAN = "sampling_plan", "抽检方案"
    SAMPLING_RUN = "sampling_run", "抽检批次"
    REVIEW = "review", "复核任务"
    APPEAL = "appeal", "申诉"
    CALIBRATION = "calibration", "校准会"
    JOB = "job", "导入导出任务"
    AUDIT_LOG = "audit_log", "审计日志"
    SURVEY = "survey", "满意度调查"
    SALE = "sale", "销售记录"
    BUSINESS_ERROR = "business_error", "业务差错"
    ATTENDANCE = "attendance", "出勤"
    EVALUATION = "evaluation", "月度绩效"
    COACHING = "coaching", "辅导计划"
    ROSTER = "roster", "排班"
    LEAVE = "leave", "请假申请"
    SWAP = "swap", "换班申请"
    NOTICE = "notice", "排班通知"
    QUESTION = "question", "题库"
    TRAINEE = "trainee", "培训状态"
    EXAM = "exam", "理论考核"
    ROLEPLAY = "roleplay", "情景演练"
    PRACTICAL = "practical", "实操考核"
    ASSIGNMENT = "assignment", "练习任务"


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))  # an AuditAction (kept as text: old entries stay readable)
    entity: Mapped[str] = mapped_column(String(32), index=True)  # an AuditEntity
    entity_id: Mapped[str | None] = mapped_column(String(64), index=True)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {field: [old, new]}
    detail: Mapped[str | None] = mapped_column(String(500))


def record(
    session: Session,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: object = None,
    changes: dict[str, list[Any]] | None = None,
    detail: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        changes=sanitise(changes) if changes else changes,
        detail=mask_text(detail)[:500] if detail else None,
    )
    session.add(entry)
    return entry


SECRET_FIELDS = frozenset({"password", "password_hash", "secret", "secret_key", "token", "csrf"})
MASKED_FIELDS = frozenset({"id_number"})
HIDDEN = "[已隐去]"
# 15- or 18-character 居民身份证号码 (the last may be X) standing alone in free text.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{15}(?:\d{2}[\dXx])?(?![0-9A-Za-z])")


def mask_value(value: Any) -> Any:
    """A sensitive value as the audit log keeps it: its first character, the rest starred."""
    if isinstance(value, list | tuple):
        return [mask_value(v) for v in value]
    if isinstance(value, str) and value:
        return value[:1] + "*" * (len(value) - 1)
    return value


def _hidden(value: Any) -> Any:
    """A secret never reaches the log; a diff's [old, new] keeps its shape."""
    if isinstance(value, list | tuple):
        return [None if v is None else HIDDEN for v in value]
    return HIDDEN


def mask_text(text: str) -> str:
    return _ID_NUMBER.sub(lambda found: mask_value(found[0]), text)


def sanitise(changes: Any) -> Any:
    """``changes`` with secrets dropped and sensitive fields masked, at any depth."""
    if isinstance(changes, dict):
        return {
            field: _hidden(value)
            if field in SECRET_FIELDS
            else mask_value(value)
            if field in MASKED_FIELDS
            else sanitise(value)
            for field, value in changes.items()
        }
    if isinstance(changes, list):
        return [sanitise(value) for value in changes]
    if isinstance(changes, str):
        return mask_text(changes)
    return changes


def entries(
    session: Session, *, entity: str | None = None, entity_id: object = None, limit: int = 200
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == str(entity_id))
    return list(session.scalars(query))
