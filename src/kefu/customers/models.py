from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, Timestamped, Versioned


class Customer(Versioned, Timestamped, Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    phone: Mapped[str] = mapped_column(String(32), index=True)
    account_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    id_number: Mapped[str | None] = mapped_column(String(32))  # 证件号码
    email: Mapped[str | None] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(256))
    notes: Mapped[str | None] = mapped_column(String(1000))
