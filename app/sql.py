"""A piece of SQL and the values it binds, kept together (`Sql`), so that a WHERE built from
a filter, a caller's scope and a page's keys is composed by `&` and `Sql.all` rather than by
hand-merging parameter dicts.

Why not SQLAlchemy Core: the statements are PostGIS text read against EXPLAIN and kept
as PostgreSQL writes it; `text().bindparams()` binds values but does not compose two
clauses into one. psycopg's `sql.Composed` does, but we run on asyncpg. A value bound by
two pieces under one name must be the same value: `Sql` refuses the merge otherwise,
where a dict's `update` would silently keep the last."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class ParameterClash(ValueError):
    """Two pieces bind different values under one name."""


def merged(*bindings: Mapping[str, Any]) -> dict[str, Any]:
    """The union of the bindings; a name bound twice must be bound to one value."""
    out: dict[str, Any] = {}
    for binding in bindings:
        for name, value in binding.items():
            if name in out and out[name] is not value and out[name] != value:
                raise ParameterClash(f"parameter :{name} bound to {out[name]!r} and {value!r}")
            out[name] = value
    return out


@dataclass(frozen=True)
class Sql:
    text: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def all(cls, parts: Iterable[Sql]) -> Sql:
        """The parts joined by AND (TRUE for none)."""
        listed = list(parts)
        if not listed:
            return cls("TRUE")
        return cls(" AND ".join(p.text for p in listed), merged(*(p.params for p in listed)))

    def __and__(self, other: Sql) -> Sql:
        return Sql.all([self, other])

    def bind(self, **values: Any) -> Sql:
        """This piece with more values bound."""
        return Sql(self.text, merged(self.params, values))

    def around(self, text: str) -> Sql:
        """A statement built around this piece (whose text it holds), with its values."""
        if self.text not in text:
            raise ValueError("the statement does not hold the piece it binds for")
        return Sql(text, self.params)


TRUE = Sql("TRUE")


def containing(words: str) -> str:
    """A LIKE pattern for `words` anywhere in a text (its own % _ and \\ taken literally)."""
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
