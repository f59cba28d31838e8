"""Errors a user can act on, shared by the services, the API and the pages."""

from __future__ import annotations

import errno
from typing import Any


class KefuError(Exception):
    """Something the user can fix; ``str()`` says what and where, in Chinese. ``details`` go into
    the API's answer beside ``detail`` (e.g. ``missing``: the fields a template still needs)."""

    status = 400
    # A refusal that must still be saved: a failed login counts towards the lock-out, a failed
    # identity check belongs in the audit log.
    keep_changes = False

    def __init__(self, message: str = "", *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class NotFound(KefuError):
    status = 404


class Forbidden(KefuError):
    status = 403


class Conflict(KefuError):
    """Somebody else saved first (optimistic locking) or the change contradicts the state."""

    status = 409


class Invalid(KefuError):
    status = 422


_OS_REASONS = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EISDIR: "这是一个文件夹,不是文件",
    errno.ENOTDIR: "路径中有一段不是文件夹",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "只读的文件系统",
}


def os_reason(error: OSError) -> str:
    """Why a file could not be read or written, in Chinese (the system's own words otherwise)."""
    return _OS_REASONS.get(error.errno or 0) or error.strerror or str(error)
