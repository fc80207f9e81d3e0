"""The benchmark dataset: N synthetic incidents and N/25 clearing works, generated in SQL
(a million incidents in a few minutes; never through the API), over the demo register.

Incidents cluster the way border events do. A share (`HOTSPOT_SHARE`) lies around
hotspots: the sites the seed reports name on VN-CN (the Hữu Nghị gate at 1088/2-1089, the
passenger control house at 1090-1091, the rail junction at 1122, Kéo Ái at 1055-1056,
Bản Khoòng at 853-854, the Cao Bằng embankments at 556 and 836, the river area at 1011,
the Red River doubles at 104, the re-clearing at 1248, the disputed direction at 1163)
and, as illustrative gates, the marker nearest the centre of each border district (VN-CN
and VN-LA). Around a hotspot, the chainage spreads normally (sigma `HOTSPOT_SPREAD_M`) and
the distance from the line exponentially (mean 500 m). The rest lie anywhere along VN-CN
and VN-LA in proportion to their length, at an exponential distance (mean 1 km), all
within 3 km. Seven in ten are on Vietnam's side.

Categories follow the place (crossings and smuggling near gates; marker damage, fire and
fences along the line). Events run from 2016 to November 2026, more each year. Most get
settled: older events are closed far more often, after a lognormal delay (median three
weeks, a tenth past ten weeks): resolved (with `resolved_at`) or dismissed (its
`updated_at`), the rest in one of the four open states. Context columns (nearest marker,
chainage, distance, side, zones, district and province of the event's day) are filled as
the service would, from the generated position.

Clearing works: stretches of VN-CN (60 %) and VN-LA, a lognormal length (median 1.5 km),
kinds weighted to re-clearing and maintenance, planned 2016-2026; past works mostly
completed (with a whole-stretch completion record), recent ones planned or in progress.
Their district is the one nearest the stretch's middle (within 5 km), with the whole
length: simpler than the service's 100 m pieces, enough for the summary's kilometres.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.text import fold

HOTSPOT_SHARE = 0.6
HOTSPOT_SPREAD_M = 3000.0
WORKS_PER_INCIDENT = 1 / 25

# Named sites on VN-CN (DOMAIN.md, the seed reports) and their weight among hotspots.
NAMED_SITES = [
    ("1089", 4),
    ("1091", 3),
    ("1122", 3),
    ("104", 4),
    ("1055", 2),
    ("853", 2),
    ("836", 2),
    ("556", 2),
    ("1011", 1),
    ("1248", 1),
    ("1163", 1),
]

HOTSPOTS = """
CREATE TEMP TABLE bench_hotspots ON COMMIT DROP AS
WITH named(code, weight) AS (VALUES {named}),
spots AS (
  SELECT m.border_id, m.chainage_m, n.weight
  FROM named n JOIN markers m ON m.code = n.code
  JOIN borders b ON b.id = m.border_id AND b.code = 'VN-CN'
  UNION ALL
  SELECT near.border_id, near.chainage_m, 2
  FROM admin_units u
  CROSS JOIN LATERAL (
    SELECT m.border_id, m.chainage_m FROM markers m JOIN borders b ON b.id = m.border_id
    WHERE b.code IN ('VN-CN', 'VN-LA')
    ORDER BY m.geom <-> ST_PointOnSurface(u.geom) LIMIT 1) near
  WHERE u.level = 'district'
)
SELECT row_number() OVER (ORDER BY s.border_id, s.chainage_m) AS id, s.*,
       sum(s.weight) OVER (ORDER BY s.border_id, s.chainage_m ROWS UNBOUNDED PRECEDING)::numeric
         / sum(s.weight) OVER () AS upto
FROM spots s
"""

# Categories and their weights near a gate and along the line, with a Vietnamese title.
CATEGORIES = [
    ("illegal_crossing", 25, 8, "Vượt biên trái phép"),
    ("smuggling", 20, 5, "Vận chuyển hàng lậu qua biên giới"),
    ("construction", 12, 7, "Xây dựng công trình gần đường biên"),
    ("surveillance_equipment", 10, 6, "Lắp đặt camera giám sát"),
    ("fence", 10, 12, "Hàng rào cắt qua đường biên"),
    ("aerial_flight", 5, 7, "Flycam bay gần biên giới"),
    ("excavation", 5, 9, "Đào hào gần đường biên"),
    ("cable", 4, 6, "Rải cáp quang dọc biên giới"),
    ("marker_damage", 3, 10, "Cột mốc bị hư hại"),
    ("marker_at_risk", 2, 9, "Cột mốc có nguy cơ sạt lở"),
    ("fire", 1, 8, "Cháy rừng gần đường biên"),
    ("cross_border_activity", 2, 7, "Canh tác, chăn thả qua biên giới"),
    ("other", 1, 6, "Sự việc khác"),
]

DRAWS = """
CREATE TEMP TABLE bench_draws ON COMMIT DROP AS
WITH lines AS (
  SELECT id, sum(length_m::numeric) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING)
               / sum(length_m::numeric) OVER () AS upto
  FROM borders WHERE code IN ('VN-CN', 'VN-LA')
), draws AS MATERIALIZED (  -- each random value drawn once per incident
  SELECT g AS n, random() < :hot_share AS near_gate, random() AS pick,
         -- a standard normal (Box-Muller) and an exponential of mean 1
         sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z,
         -ln(1 - random()) AS e1, random() < 0.7 AS vn_side, random() AS u_along,
         -- the event's time: the yearly count grows linearly
         timestamptz '2016-01-01 00:00+07'
           + sqrt(random()) * (timestamptz '2026-11-30 00:00+07' - timestamptz '2016-01-01 00:00+07')
           AS occurred_at,
         random() AS u_cat, random() AS u_closed, random() AS u_kind, random() AS u_open,
         -- the delay to settlement: lognormal, median 21 days
         exp(ln(21) + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
           * interval '1 day' AS delay, random() AS u_sev
  FROM generate_series(1, :rows) g
), picked AS (
  SELECT d.*,
    CASE WHEN d.near_gate THEN (SELECT h.id FROM bench_hotspots h WHERE h.upto >= d.pick
                                ORDER BY h.upto LIMIT 1) END AS spot_id,
    CASE WHEN NOT d.near_gate THEN (SELECT l.id FROM lines l WHERE l.upto >= d.pick
                                    ORDER BY l.upto LIMIT 1) END AS line_id
  FROM draws d
)
SELECT p.*, b.id AS border_id,
       greatest(0, least(b.length_m, CASE WHEN p.near_gate
         THEN h.chainage_m + :spread * p.z ELSE p.u_along * b.length_m END)) AS m,
       least(3000, CASE WHEN p.near_gate THEN 500 ELSE 1000 END * p.e1) AS dist,
       -- +1: to the right of the line's direction
       CASE WHEN p.vn_side = (b.right_country = 'VN') THEN 1 ELSE -1 END AS sign,
       CASE WHEN p.vn_side THEN 'VN'
            WHEN b.right_country = 'VN' THEN b.left_country ELSE b.right_country END AS side
FROM picked p LEFT JOIN bench_hotspots h ON h.id = p.spot_id
JOIN borders b ON b.id = coalesce(h.border_id, p.line_id)
"""

INCIDENTS = """
WITH cats AS (
  SELECT code, title, folded, near_w, line_w,
         sum(near_w) OVER w::numeric / sum(near_w) OVER () AS near_upto,
         sum(line_w) OVER w::numeric / sum(line_w) OVER () AS line_upto
  FROM (VALUES {categories}) c(code, near_w, line_w, title, folded)
  WINDOW w AS (ORDER BY code ROWS UNBOUNDED PRECEDING)
), aimed AS MATERIALIZED (  -- each position and marker lookup once per incident
  SELECT d.*,
         ST_Project(bordermark_point_at(b.measured_geom, d.m)::geography, d.dist,
           ST_Azimuth(bordermark_point_at(b.measured_geom, greatest(d.m - 5, 0)),
                      bordermark_point_at(b.measured_geom, d.m + 5))
           + d.sign * pi() / 2)::geometry AS geom,
         (SELECT c.code FROM cats c
          WHERE CASE WHEN d.near_gate THEN c.near_upto ELSE c.line_upto END >= d.u_cat
          ORDER BY CASE WHEN d.near_gate THEN c.near_upto ELSE c.line_upto END LIMIT 1)
           AS category,
         -- settled: nine in ten after a year, fewer the younger the event
         d.occurred_at + d.delay < now() AND d.u_closed < CASE
           WHEN now() - d.occurred_at > interval '365 days' THEN 0.92
           WHEN now() - d.occurred_at > interval '90 days' THEN 0.75
           WHEN now() - d.occurred_at > interval '30 days' THEN 0.5 ELSE 0.2 END AS closed,
         d.occurred_at + d.delay AS closed_at,
         (SELECT mk FROM markers mk WHERE mk.border_id = d.border_id AND mk.chainage_m <= d.m
          ORDER BY mk.chainage_m DESC LIMIT 1) AS before,
         (SELECT mk FROM markers mk WHERE mk.border_id = d.border_id AND mk.chainage_m > d.m
          ORDER BY mk.chainage_m LIMIT 1) AS after
  FROM bench_draws d JOIN borders b ON b.id = d.border_id
), placed AS (
  SELECT a.*, CASE WHEN (a.after).code IS NOT NULL
                    AND (a.after).chainage_m - a.m < a.m - coalesce((a.before).chainage_m, -1e9)
                   THEN (a.after).code ELSE (a.before).code END AS nearest_code,
         (SELECT u.code FROM admin_units u WHERE u.level = 'district'
          AND ST_Intersects(u.geom, a.geom)
          AND u.valid_from <= (a.occurred_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
          AND (u.valid_to IS NULL
               OR u.valid_to > (a.occurred_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)
          LIMIT 1) AS district_code,
         (SELECT u.code FROM admin_units u WHERE u.level = 'province'
          AND ST_Intersects(u.geom, a.geom) LIMIT 1) AS province_code
  FROM aimed a
)
INSERT INTO incidents (id, content_hash, border_id, category, title, occurred_at, severity,
  status, reported_by, geom, nearest_marker_code, nearest_marker_distance_m, chainage_ref,
  chainage_m, distance_to_line_m, side, zones, resolved_at, search_text, created_at,
  updated_at, district_code, province_code)
SELECT gen_random_uuid(), 'bench', p.border_id, p.category,
  c.title || ' gần mốc ' || p.nearest_code, p.occurred_at,
  CASE WHEN p.u_sev < 0.25 THEN 'low' WHEN p.u_sev < 0.7 THEN 'medium'
       WHEN p.u_sev < 0.92 THEN 'high' ELSE 'critical' END,
  CASE WHEN p.closed AND p.u_kind < 0.8 THEN 'resolved' WHEN p.closed THEN 'dismissed'
       ELSE (ARRAY['reported', 'verified', 'escalated', 'in_negotiation'])
              [1 + floor(p.u_open * 4)::int] END,
  'bench', p.geom, p.nearest_code, p.dist,
  (p.before).code || '+' || round(p.m - (p.before).chainage_m), p.m, p.dist, p.side,
  ARRAY(SELECT z.code FROM border_zones z WHERE z.border_id = p.border_id
        AND z.distance_m >= p.dist ORDER BY z.distance_m)::varchar[],
  CASE WHEN p.closed AND p.u_kind < 0.8 THEN p.closed_at END,
  c.folded || ' gan moc ' || p.nearest_code,
  p.occurred_at + interval '3 hours',
  CASE WHEN p.closed THEN p.closed_at ELSE p.occurred_at + interval '3 hours' END,
  p.district_code, p.province_code
FROM placed p JOIN cats c ON c.code = p.category
"""

WORKS = """
WITH kinds(code, w) AS (VALUES ('re_clearing', 35), ('maintenance_clearing', 35),
                               ('clearing', 10), ('embankment', 8), ('fence', 5), ('road', 4),
                               ('other', 3)),
k AS (SELECT code, sum(w) OVER (ORDER BY code ROWS UNBOUNDED PRECEDING)::numeric / sum(w) OVER () AS upto
      FROM kinds),
draws AS MATERIALIZED (  -- each random value drawn once per work
  SELECT g AS n, random() AS u_border, random() AS u_kind, random() AS u_status,
         exp(ln(1500) + 0.8 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS len,
         random() AS u_start,
         date '2016-01-01' + (random() * (date '2026-11-30' - date '2016-01-01'))::int AS planned
  FROM generate_series(1, :works) g
), raw AS (
  SELECT d.*, b.id AS border_id, b.code AS border, b.measured_geom, b.length_m
  FROM draws d JOIN borders b ON b.code = CASE WHEN d.u_border < 0.6 THEN 'VN-CN' ELSE 'VN-LA' END
), placed AS (
  SELECT r.*, greatest(0, r.u_start * r.length_m - least(r.len, 15000)) AS s,
         least(r.length_m, r.u_start * r.length_m) AS e,
         (SELECT k.code FROM k WHERE k.upto >= r.u_kind ORDER BY k.upto LIMIT 1) AS kind,
         CASE WHEN r.planned < date '2026-11-30' - 120
                THEN CASE WHEN r.u_status < 0.85 THEN 'completed'
                          WHEN r.u_status < 0.92 THEN 'cancelled' ELSE 'suspended' END
              WHEN r.planned < date '2026-11-30' THEN 'in_progress' ELSE 'planned' END AS status
  FROM raw r
), shaped AS (
  SELECT p.*, bordermark_stretch(p.measured_geom, p.s, p.e) AS geom,
    (SELECT a.code FROM markers a WHERE a.border_id = p.border_id AND a.chainage_m <= p.s
     ORDER BY a.chainage_m DESC LIMIT 1) AS from_code,
    (SELECT a.code FROM markers a WHERE a.border_id = p.border_id AND a.chainage_m >= p.e
     ORDER BY a.chainage_m LIMIT 1) AS to_code
  FROM placed p WHERE p.e - p.s > 50
), districted AS (
  SELECT s.*, u.code AS district, u.parent_code AS province
  FROM shaped s
  LEFT JOIN LATERAL (
    SELECT d.code, d.parent_code FROM admin_units d
    WHERE d.level = 'district'
      AND ST_DWithin(d.geom::geography, ST_LineInterpolatePoint(s.geom, 0.5)::geography, 5000)
    ORDER BY d.geom <-> ST_LineInterpolatePoint(s.geom, 0.5) LIMIT 1) u ON true
  WHERE GeometryType(s.geom) = 'LINESTRING'
)
INSERT INTO clearing_works (id, border_id, range_ref, start_m, end_m, length_m, geom, kind,
  approval_body, approval_year, party, planned_start, planned_end, actual_start, actual_end,
  status, notes, districts, province_codes)
SELECT gen_random_uuid(), d.border_id,
  d.border || ':' || coalesce(d.from_code, '0') || '-' || coalesce(d.to_code, d.from_code, '0'),
  d.s, d.e, ST_Length(d.geom::geography), d.geom, d.kind,
  'Ủy ban liên hợp biên giới', extract(year FROM d.planned)::int - 1, 'joint',
  d.planned, d.planned + 60,
  CASE WHEN d.status IN ('completed', 'in_progress', 'suspended') THEN d.planned + 10 END,
  CASE WHEN d.status = 'completed' THEN d.planned + 70 END,
  d.status, 'bench',
  CASE WHEN d.district IS NULL THEN '[]'::jsonb
       ELSE jsonb_build_array(jsonb_build_object('code', d.district,
              'length_m', round(ST_Length(d.geom::geography)::numeric, 1))) END,
  CASE WHEN d.province IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(d.province) END
FROM districted d
"""

COMPLETIONS = """
INSERT INTO clearing_completions (work_id, border_id, start_m, end_m, completed_on, note)
SELECT id, border_id, start_m, end_m, actual_end, 'whole stretch (bench)'
FROM clearing_works WHERE notes = 'bench' AND status = 'completed'
"""


async def generate(session: AsyncSession, rows: int) -> dict[str, float]:
    """Fill the database (demo data loaded) with `rows` incidents and their works; commits.
    Returns the seconds each step took."""
    timings = {}
    started = time.perf_counter()
    await session.execute(text(hotspots_sql()))
    await session.execute(
        text(DRAWS), {"rows": rows, "hot_share": HOTSPOT_SHARE, "spread": HOTSPOT_SPREAD_M}
    )
    await session.execute(text(incidents_sql()))
    await session.commit()
    timings["generate_s"] = time.perf_counter() - started
    started = time.perf_counter()
    works = await session.execute(
        text(WORKS), {"works": max(200, round(rows * WORKS_PER_INCIDENT))}
    )
    timings["works"] = works.rowcount  # type: ignore[attr-defined]
    await session.execute(text(COMPLETIONS))
    await session.commit()
    timings["works_s"] = time.perf_counter() - started
    return timings


def _values(rows: Sequence[tuple[object, ...]]) -> str:
    def literal(v: object) -> str:
        return str(v) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'"

    return ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)


def hotspots_sql() -> str:
    return HOTSPOTS.format(named=_values(NAMED_SITES))


def incidents_sql() -> str:
    # Search text folded as the service folds it (app/text.py).
    rows = [(code, near, line, title, fold(title)) for code, near, line, title in CATEGORIES]
    return INCIDENTS.format(categories=_values(rows))
