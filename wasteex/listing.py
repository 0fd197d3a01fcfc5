"""Search, sort and pagination for list pages and list endpoints.

Sort keys are allow-listed per listing (never a column name from the URL), so
a query string cannot reach SQL.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any, Generic, Sequence, TypeVar

from sqlalchemy import Select, func, select

from wasteex.extensions import db

T = TypeVar("T")
MAX_PER_PAGE = 100


@dataclass
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    per_page: int
    total: int
    sort: str

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True)
class Sorts:
    """Allowed sort keys: ``{"name": Model.name, ...}``; ``-name`` sorts descending."""

    columns: dict[str, Any]
    default: str

    def resolve(self, key: str | None) -> tuple[str, list[Any]]:
        key = key or self.default
        name = key.lstrip("-")
        if name not in self.columns:
            key, name = self.default, self.default.lstrip("-")
        column = self.columns[name]
        order = column.desc() if key.startswith("-") else column.asc()
        return key, [order]


def paginate(stmt: Select, sorts: Sorts, sort: str | None, page: int | None, per_page: int) -> Page:
    key, order = sorts.resolve(sort)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page = max(1, min(page or 1, max(1, ceil(total / per_page))))
    items = db.session.scalars(stmt.order_by(None).order_by(*order).limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=items, page=page, per_page=per_page, total=total, sort=key)


def like_pattern(text: str) -> str:
    """A LIKE pattern that matches ``text`` literally (escapes % and _)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
