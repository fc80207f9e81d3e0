"""app/sql.py: pieces of SQL keep their values; composing them merges the values and
refuses two values under one name; a LIKE pattern takes the searched text literally. The
composed pieces run on PostgreSQL with the values they carry."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.sql import TRUE, ParameterClash, Sql, containing


def test_pieces_compose_with_their_values() -> None:
    border = Sql("b.code = :border", {"border": "VN-CN"})
    statuses = Sql("i.status = ANY(:statuses)", {"statuses": ["reported"]})
    both = border & statuses
    assert both.text == "b.code = :border AND i.status = ANY(:statuses)"
    assert both.params == {"border": "VN-CN", "statuses": ["reported"]}
    # The pieces themselves are unchanged (a dict's update would have changed one).
    assert border.params == {"border": "VN-CN"}


def test_no_pieces_is_true_and_one_is_itself() -> None:
    assert Sql.all([]) == TRUE
    one = Sql("m.condition = ANY(:c)", {"c": ["damaged"]})
    assert Sql.all([one]) == one


def test_one_name_two_values_is_refused() -> None:
    scope = Sql("i.province_code = :province", {"province": "LSN"})
    asked = Sql("i.province_code = :province", {"province": "CBG"})
    with pytest.raises(ParameterClash, match="province"):
        scope & asked
    with pytest.raises(ParameterClash):
        scope.bind(province="HGG")
    # The same value twice is one binding.
    assert (scope & scope.bind(province="LSN")).params == {"province": "LSN"}


def test_a_statement_around_a_piece_must_hold_it() -> None:
    where = Sql("b.code = :border", {"border": "VN-LA"})
    statement = where.around(f"SELECT count(*) FROM borders b WHERE {where.text}")
    assert statement.params == where.params
    with pytest.raises(ValueError, match="does not hold"):
        where.around("SELECT count(*) FROM borders b")


@pytest.mark.parametrize(
    ("searched", "stored", "found"),
    [
        ("cong van", "so cong van 1232", True),
        ("50%", "da xay 50% hang rao", True),
        ("50%", "da xay 500 m hang rao", False),  # % is not a wildcard
        ("a_b", "axb", False),  # nor is _
        ("a_b", "x a_b y", True),
        ("c:\\d", "c:\\d", True),  # a backslash is itself
    ],
)
async def test_containing_matches_the_text_literally(
    db: AsyncSession, searched: str, stored: str, found: bool
) -> None:
    piece = Sql("CAST(:stored AS text) LIKE :pattern", {"pattern": containing(searched)})
    row = await db.execute(text(f"SELECT {piece.text}"), piece.bind(stored=stored).params)
    assert row.scalar_one() is found
