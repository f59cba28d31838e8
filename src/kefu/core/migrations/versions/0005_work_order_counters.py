"""work-order number counters

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    counters = op.create_table(
        "work_order_counters",
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_work_order_counters")),
    )
    # Carry on from the numbers already given: GD20261123-0042 → (20261123, 42).
    numbers = op.get_bind().execute(sa.text("SELECT number FROM work_orders")).scalars()
    last: dict[str, int] = {}
    for number in numbers:
        day, sequence = number[2:].split("-", 1)
        last[day] = max(last.get(day, 0), int(sequence))
    if last:
        op.bulk_insert(counters, [{"day": day, "last": value} for day, value in last.items()])


def downgrade() -> None:
    op.drop_table("work_order_counters")
