from __future__ import annotations

from sqlalchemy import text

from seed.loader import ILLUSTRATIVE, load_demo, plan_markers

FINGERPRINT = text(
    "SELECT count(*), md5(string_agg(code || ST_AsText(geom) || chainage_m::text, ',' ORDER BY id)) "
    "FROM markers"
)


async def test_loading_twice_changes_nothing(db) -> None:
    before = (await db.execute(FINGERPRINT)).one()
    counts = await load_demo(db)
    after = (await db.execute(FINGERPRINT)).one()
    assert tuple(before) == tuple(after)
    # 3 provinces; 15 districts of 2020-2025, 4 merged in 2020 and the earlier shapes of
    # the 2 that took others in with a cell of their own (Trùng Khánh, Hà Quảng); Lộc
    # Bình's 7 communes and the 2 formed from them; 5 stations.
    assert counts["borders"] == 3 and counts["admin_units"] == 3 + 15 + 4 + 2 + 7 + 2 + 5
    levels = dict(
        (await db.execute(text("SELECT level, count(*) FROM admin_units GROUP BY 1"))).all()
    )
    assert levels == {"province": 3, "district": 21, "commune": 9, "station": 5}


async def test_named_markers_of_the_seed_reports_exist(db) -> None:
    named = [
        "1053/1",
        "1088/1",
        "1088/2",
        "556/1",
        "556/2",
        "834/1",
        "836(1)",
        "836(2)",
        "944/1(1)",
        "944/1(2)",
        "104(2)",
        "0",
        "1378",
        "615",
        "821",
        "1163",
    ]
    rows = await db.execute(
        text(
            "SELECT m.code FROM markers m JOIN borders b ON b.id = m.border_id "
            "WHERE b.code = 'VN-CN' AND m.code = ANY(:c)"
        ),
        {"c": named},
    )
    assert {r[0] for r in rows} == set(named)
    # A double marker replaces the plain number: there is no bare 836.
    plain = await db.execute(
        text(
            "SELECT count(*) FROM markers m JOIN borders b ON b.id = m.border_id "
            "WHERE b.code = 'VN-CN' AND m.code IN ('836', '102')"
        )
    )
    assert plain.scalar_one() == 0


async def test_markers_follow_the_line_in_code_order(db) -> None:
    rows = (
        (
            await db.execute(
                text(
                    "SELECT m.chainage_m FROM markers m JOIN borders b ON b.id = m.border_id "
                    "WHERE b.code = 'VN-CN' AND m.bank_index IN (0, 1) ORDER BY m.number, m.aux_index, m.bank_index"
                )
            )
        )
        .scalars()
        .all()
    )
    assert rows == sorted(rows)


async def test_banks_stand_on_their_sides(db) -> None:
    rows = dict(
        (
            await db.execute(
                text(
                    "SELECT m.code, bordermark_side_of_line(b.geom, m.geom) FROM markers m "
                    "JOIN borders b ON b.id = m.border_id WHERE m.code IN ('836(1)', '836(2)')"
                )
            )
        ).all()
    )
    assert rows == {"836(1)": 1, "836(2)": -1}  # (1) left = China, (2) right = Vietnam


async def test_districts_end_with_the_2025_reform(db) -> None:
    rows = (
        await db.execute(
            text(
                "SELECT level, valid_to, count(*) FROM admin_units "
                "WHERE level IN ('province', 'district') GROUP BY 1, 2 ORDER BY 1, 2"
            )
        )
    ).all()
    assert [(r[0], str(r[1]), r[2]) for r in rows] == [
        ("district", "2020-02-01", 6),  # the 4 merged and the 2 earlier shapes
        ("district", "2025-07-01", 15),
        ("province", "None", 3),
    ]
    # Every unit below a province lies in it (a centimetre in).
    outside = (
        await db.execute(
            text(
                "SELECT count(*) FROM admin_units d JOIN admin_units p "
                "ON p.code = d.province_code AND p.level = 'province' "
                "WHERE d.level <> 'province' AND NOT ST_CoveredBy(ST_Buffer(d.geom, -1e-6), p.geom)"
            )
        )
    ).scalar_one()
    assert outside == 0


def test_every_generated_marker_says_it_is_illustrative() -> None:
    planned = plan_markers(
        {1: 0.0, 2: 100.0, 3: 200.0}, [("2(1)", "x"), ("2(2)", "x"), ("1/1", "y")]
    )
    assert [str(p.code) for p in planned] == ["1", "1/1", "2(1)", "2(2)", "3"]
    assert all(p.basis.startswith(ILLUSTRATIVE) for p in planned)
    assert [p.measure_m for p in planned] == [0.0, 50.0, 100.0, 100.0, 200.0]


async def test_demo_incidents_of_the_reports(db) -> None:
    rows = dict(
        (
            await db.execute(
                text("SELECT location_ref, status FROM incidents WHERE reported_by LIKE 'Báo cáo%'")
            )
        ).all()
    )
    assert rows["VN-CN:1163"] == "in_negotiation"  # the line dispute
    assert rows["VN-CN:615"] == "resolved"  # light repair done by Nà Po
    assert rows["VN-CN:853-854"] == "monitoring"  # "theo dõi" in 2023
    # 21 named events, 3 + 16 illustrative members of the Lạng Sơn 2020 totals
    assert len(rows) == 40
    counted = text(
        "SELECT (SELECT count(*) FROM incidents), (SELECT max(updated_at) FROM incidents), "
        "(SELECT count(*) FROM incident_steps), (SELECT count(*) FROM incident_history), "
        "(SELECT count(*) FROM document_links), (SELECT count(*) FROM approval_stages)"
    )
    before = (await db.execute(counted)).one()
    from seed.incidents import load_demo_incidents

    assert await load_demo_incidents(db) == 0  # loading again adds nothing
    assert await load_demo(db)
    assert tuple((await db.execute(counted)).one()) == tuple(before)


async def test_demo_clearing_works_of_the_reports(db) -> None:
    rows = dict(
        (
            await db.execute(
                text("SELECT range_ref, status FROM clearing_works WHERE notes IS NOT NULL")
            )
        ).all()
    )
    assert rows["VN-CN:1042-1053/1"] == "completed"
    assert rows["VN-CN:1088/2-1089"] == "in_progress"
    assert rows["VN-CN:834/1-835"] == "in_progress"
    assert "VN-CN:1011-1012" not in rows  # the river survey is a survey, not a work
    assert len(rows) == 9
    from seed.clearing import load_demo_clearing_works

    assert await load_demo_clearing_works(db) == 0


async def test_an_older_demo_is_not_overwritten(db) -> None:
    """A database loaded by an earlier demo holds other content under the same ids: the
    seed stops and says how to start again, instead of a bare 409 about an incident id."""
    import pytest

    from app.errors import Conflict
    from seed.incidents import incident_id, load_demo_incidents

    await db.execute(
        text("UPDATE incidents SET content_hash = 'older' WHERE id = :id"),
        {"id": incident_id("fence-1116")},
    )
    with pytest.raises(Conflict, match=r"earlier version of the demo.*make clean-data"):
        await load_demo_incidents(db)
