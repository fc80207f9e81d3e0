"""How each exported layer looks in Google Earth and other KML readers (a layer's
`Export.kml`): a name for every placemark (an incident's title, a marker's code) and a
shared style chosen by what a reader scans for: an incident's status (colour) and
category (icon), a marker's condition, a clearing work's status. Without them Google
Earth shows unnamed yellow pins.

KML colours are aabbggrr. The icons are Google Earth's own shape set (it ships and caches
them; other readers fall back to their default pin)."""

from __future__ import annotations

from dataclasses import dataclass

ICONS = "http://maps.google.com/mapfiles/kml/shapes/"

# Status colours: red while it is new, orange verified, magenta escalated or referred,
# purple with the other side, teal under watch, green resolved, grey dismissed.
INCIDENT_STATUS_COLOURS = {
    "reported": "ff1c1ce3",
    "verified": "ff0c8cf5",
    "escalated": "ffb000d0",
    "referred": "ffb000d0",
    "in_negotiation": "ffb0308f",
    "monitoring": "ff8c8c00",
    "resolved": "ff3aa02c",
    "dismissed": "ff9a9a9a",
}
CATEGORY_ICONS = {
    "fence": "caution.png",
    "excavation": "caution.png",
    "construction": "caution.png",
    "river_works": "caution.png",
    "mining": "caution.png",
    "cable": "caution.png",
    "surveillance_equipment": "camera.png",
    "aerial_flight": "airports.png",
    "marker_damage": "flag.png",
    "marker_at_risk": "flag.png",
    "line_dispute": "flag.png",
    "illegal_crossing": "man.png",
    "cross_border_activity": "man.png",
    "smuggling": "man.png",
    "fire": "firedept.png",
}
OTHER_ICON = "placemark_circle.png"
MARKER_CONDITION_COLOURS = {
    "intact": "ff3aa02c",
    "damaged": "ff0c8cf5",
    "displaced": "ff00d7ff",
    "destroyed": "ff1c1ce3",
    "at_risk": "ffb000d0",
}
WORK_STATUS_COLOURS = {"planned": "ffd0a040", "in_progress": "ff0c8cf5", "completed": "ff3aa02c"}
# Crossings: green while open, red suspended, blue on the way, grey closed.
CROSSING_STATUS_COLOURS = {
    "open": "ff3aa02c",
    "reopened": "ff3aa02c",
    "upgraded": "ff3aa02c",
    "suspended": "ff1c1ce3",
    "planned": "ffd0a040",
    "approved": "ffd0a040",
    "closed": "ff9a9a9a",
}
# Survey areas: red at risk, orange a fence, blue water, magenta the line itself in doubt.
SURVEY_FINDING_COLOURS = {
    "landslide_risk": "ff1c1ce3",
    "fence_in_sightline": "ff0c8cf5",
    "river": "ffd0a040",
    "river_shift": "ffd0a040",
    "diverging_views": "ffb000d0",
}
# Markers as found: the marker condition colours; repairs by status; disputed areas by state.
REPAIR_STATUS_COLOURS = {
    "planned": "ffd0a040",
    "in_progress": "ff0c8cf5",
    "done": "ff3aa02c",
    "cancelled": "ff9a9a9a",
}
DISPUTE_STATE_COLOURS = {"open": "ffb000d0", "under_talks": "ff0c8cf5", "settled": "ff9a9a9a"}
# Units: outlines from dark (province) to light (commune), stations in blue.
UNIT_LEVEL_COLOURS = {
    "province": "ff333333",
    "district": "ff666666",
    "commune": "ff999999",
    "station": "ffb4782c",
}
UNKNOWN_COLOUR = "ff9a9a9a"


@dataclass(frozen=True)
class KmlLook:
    name_sql: str  # each placemark's name, over the layer's attribute row `a`
    style_sql: str  # its style id (one of `styles`), over `a`
    styles: str  # the <Style> elements, once in the document


def _style(style_id: str, colour: str, icon: str = "placemark_circle.png") -> str:
    fill = "66" + colour[2:]  # areas drawn at 40 % opacity
    return (
        f'<Style id="{style_id}"><IconStyle><color>{colour}</color><scale>1.1</scale>'
        f"<Icon><href>{ICONS}{icon}</href></Icon></IconStyle>"
        f"<LineStyle><color>{colour}</color><width>3</width></LineStyle>"
        f"<PolyStyle><color>{fill}</color></PolyStyle></Style>"
    )


def _keyed(prefix: str, column: str, known: list[str]) -> str:
    """`prefix-value`, or `prefix-other` for a value the styles do not know."""
    listed = ", ".join(f"'{k}'" for k in known)
    return f"'{prefix}-' || CASE WHEN a.{column} IN ({listed}) THEN a.{column} ELSE 'other' END"


def incident_look() -> KmlLook:
    icons = {**CATEGORY_ICONS, "other": OTHER_ICON}
    colours = {**INCIDENT_STATUS_COLOURS, "other": UNKNOWN_COLOUR}
    styles = "".join(
        _style(f"incident-{status}-{category}", colour, icon)
        for status, colour in colours.items()
        for category, icon in icons.items()
    )
    status = _keyed("incident", "status", list(INCIDENT_STATUS_COLOURS))
    category = _keyed("x", "category", list(CATEGORY_ICONS)).removeprefix("'x-' || ")
    return KmlLook("a.title", f"{status} || '-' || {category}", styles)


def by_colour(prefix: str, column: str, colours: dict[str, str], name_sql: str) -> KmlLook:
    styles = "".join(
        _style(f"{prefix}-{value}", colour)
        for value, colour in {**colours, "other": UNKNOWN_COLOUR}.items()
    )
    return KmlLook(name_sql, _keyed(prefix, column, list(colours)), styles)


def plain(style_id: str, colour: str, name_sql: str) -> KmlLook:
    """One style for every placemark of the layer."""
    return KmlLook(name_sql, f"'{style_id}'", _style(style_id, colour))
