"""Every domain's tables, imported in one place so Alembic and ``create_all`` see them all."""

from kefu.accounts.models import User
from kefu.core.audit import AuditEntry
from kefu.customers.models import Customer

__all__ = ["AuditEntry", "Customer", "User"]
