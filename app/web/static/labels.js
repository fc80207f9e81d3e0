// Names on the map as HTML labels: the page has no glyph server (no internet base map), and
// MapLibre's symbol layers need one; a few hundred DOM labels are cheap.
//
// One placer for every kind, in order of importance: countries, provinces, gates, districts,
// stations (when drawn), marker codes, communes. A label that would overlap one already placed, or an incident
// drawn on screen, is left out (issue 26: "1095 96 97 098" at z11); zooming in makes room.
import { Marker } from "/map/vendor/maplibre-gl/maplibre-gl.mjs";
import { currentLanguage } from "/map/static/words.js";

const MARKER_LABEL_ZOOM = 11;
const MAX_LABELS = 300;
// From which zoom each level of unit is named (at lower zooms its name would crowd out
// the larger unit's).
const UNIT_ZOOM = { province: 6.5, district: 9, station: 9, commune: 11 };
const GATE_ZOOM = 8;

const MEASURE = document.createElement("canvas").getContext("2d");
const FONTS = {
  country: "600 15px system-ui, sans-serif",
  province: "600 13px system-ui, sans-serif",
  district: "italic 12px system-ui, sans-serif",
  commune: "italic 11px system-ui, sans-serif",
  station: "12px system-ui, sans-serif",
  gate: "11px system-ui, sans-serif",
  marker: "11px system-ui, sans-serif",
};

function textWidth(kind, text) {
  MEASURE.font = FONTS[kind];
  return MEASURE.measureText(kind === "country" ? text.toUpperCase() : text).width;
}

// Where a label may stand relative to its point, tried in turn: a marker's or a gate's
// code above its symbol, else below, right or left (so an incident drawn above a marker
// does not cost the marker its name); an area's name centred on its point.
// Beside, the label clears an incident drawn on the point (9 px).
const POINT_SPOTS = [
  { anchor: "bottom", offset: [0, -6] },
  { anchor: "top", offset: [0, 6] },
  { anchor: "left", offset: [11, 0] },
  { anchor: "right", offset: [-11, 0] },
];
const AREA_SPOTS = [{ anchor: "center", offset: [0, 0] }];

// A label's box on screen at a spot, with 2 px of air around it.
function labelBox(kind, point, text, spot) {
  const width = textWidth(kind, text) + 8 + (kind === "country" ? text.length : 0);
  const height = kind === "country" ? 22 : 18;
  const x = point.x + spot.offset[0];
  const y = point.y + spot.offset[1];
  const left = { left: x, right: x - width }[spot.anchor] ?? x - width / 2;
  const top = { bottom: y - height, top: y }[spot.anchor] ?? y - height / 2;
  return [left - 2, top - 2, left + width + 2, top + height + 2];
}

function overlaps(a, b) {
  return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}

// Whether a point lies in any of a shape's parts (tiles cut a shape into parts that overlap
// in the tiles' buffers), each polygon by the even-odd rule over its rings.
function inside([x, y], geometries) {
  for (const geometry of geometries) {
    const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    for (const rings of polygons) {
      let odd = false;
      for (const ring of rings) {
        for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
          const [xi, yi] = ring[i];
          const [xj, yj] = ring[j];
          if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) odd = !odd;
        }
      }
      if (odd) return true;
    }
  }
  return false;
}

// Where an area may be named: points inside its part in view, nearest the middle first (a
// grid over the view's share of its bounding box), so that a country or province is named
// where the officer is looking, not at its far-away centroid; nested areas (a country, its
// province, a district) whose middles coincide each take the next free point.
const MAX_TRIES = 12;
// A 9 x 9 grid over a box (shares of its width and height), middle first.
const GRID = Array.from({ length: 81 }, (_, k) => [Math.floor(k / 9) / 8, (k % 9) / 8])
  .sort((a, b) => Math.hypot(a[0] - 0.5, a[1] - 0.5) - Math.hypot(b[0] - 0.5, b[1] - 0.5));
function pointsInView(geometries, view) {
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const geometry of geometries) {
    for (const [x, y] of geometry.coordinates.flat(geometry.type === "Polygon" ? 1 : 2)) {
      w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, y); n = Math.max(n, y);
    }
  }
  [w, s, e, n] = [Math.max(w, view[0]), Math.max(s, view[1]), Math.min(e, view[2]), Math.min(n, view[3])];
  if (w >= e || s >= n) return [];
  const points = [];
  for (const [fx, fy] of GRID) {
    const point = [w + (e - w) * fx, s + (n - s) * fy];
    if (inside(point, geometries)) points.push(point);
    if (points.length >= MAX_TRIES) break;
  }
  return points;
}

function visible(map, layer) {
  return map.getLayer(layer) && map.getLayoutProperty(layer, "visibility") !== "none";
}

// The areas of `layer` in view, grouped by `key` (a shape is cut into tiles' parts).
function areasInView(map, layer, key) {
  const byKey = new Map();
  for (const feature of map.queryRenderedFeatures({ layers: [layer] })) {
    const id = key(feature.properties);
    if (!byKey.has(id)) byKey.set(id, { properties: feature.properties, geometries: [] });
    byKey.get(id).geometries.push(feature.geometry);
  }
  return [...byKey.values()];
}

function viewBox(map) {
  // The part of the map the panel leaves visible, a tenth in from each edge so that a
  // name is not cut by the screen's edge.
  const canvas = map.getCanvas().getBoundingClientRect();
  const panel = document.getElementById("panel");
  const left = panel && !panel.hidden ? Math.max(0, panel.getBoundingClientRect().right - canvas.left) : 0;
  const [width, height] = [canvas.width - left, canvas.height];
  const sw = map.unproject([left + width / 10, height * 0.9]);
  const ne = map.unproject([left + width * 0.9, height / 10]);
  return [sw.lng, sw.lat, ne.lng, ne.lat];
}

function candidates(map) {
  const zoom = map.getZoom();
  const view = viewBox(map);
  const found = [];
  if (visible(map, "countries-fill")) {
    for (const area of areasInView(map, "countries-fill", (p) => p.code)) {
      const places = pointsInView(area.geometries, view);
      const name = currentLanguage() === "en" ? area.properties.name_en : area.properties.name_vi;
      if (places.length) found.push({ kind: "country", rank: 0, text: name, places });
    }
  }
  if (visible(map, "districts-fill")) {
    const rank = { province: 1, district: 3, station: 3.5, commune: 5 };
    const stations = visible(map, "stations-line");
    for (const area of areasInView(map, "districts-fill", (p) => p.code)) {
      const level = area.properties.level;
      if (!(zoom >= UNIT_ZOOM[level]) || (level === "station" && !stations)) continue;
      const places = pointsInView(area.geometries, view);
      if (places.length) found.push({ kind: level, rank: rank[level], text: area.properties.name_vi, places });
    }
  }
  if (zoom >= GATE_ZOOM && visible(map, "crossings")) {
    for (const feature of map.queryRenderedFeatures({ layers: ["crossings"] })) {
      found.push({ kind: "gate", rank: 2, text: feature.properties.name, places: [feature.geometry.coordinates] });
    }
  }
  if (zoom >= MARKER_LABEL_ZOOM && visible(map, "markers")) {
    for (const feature of map.queryRenderedFeatures({ layers: ["markers"] })) {
      const code = feature.properties.code;
      // Main markers before auxiliary ones (1095 before 1095/1), then in code order.
      found.push({ kind: "marker", rank: /[/(]/.test(code) ? 4.5 : 4, text: code, places: [feature.geometry.coordinates] });
    }
  }
  const seen = new Set();
  return found
    .filter((c) => c.text && !seen.has(c.kind + c.text) && seen.add(c.kind + c.text))
    .sort((a, b) => a.rank - b.rank || a.text.localeCompare(b.text, "vi", { numeric: true }));
}

export function placeLabels(map, placed) {
  for (const label of placed) label.remove();
  placed.length = 0;
  const incidents = visible(map, "incidents-point") ? map.queryRenderedFeatures({ layers: ["incidents-point"] }) : [];
  const taken = incidents.map((f) => {
    const p = map.project(f.geometry.coordinates);
    return [p.x - 9, p.y - 9, p.x + 9, p.y + 9];
  });
  for (const label of candidates(map)) {
    if (placed.length >= MAX_LABELS) break;
    const spots = label.kind === "marker" || label.kind === "gate" ? POINT_SPOTS : AREA_SPOTS;
    let chosen = null;
    for (const at of label.places) {
      const point = map.project(at);
      const spot = spots.find((s) => !taken.some((other) => overlaps(labelBox(label.kind, point, label.text, s), other)));
      if (spot) {
        chosen = { at, spot, box: labelBox(label.kind, point, label.text, spot) };
        break;
      }
    }
    if (!chosen) continue;
    taken.push(chosen.box);
    const node = document.createElement("div");
    node.className = label.kind === "marker" ? "marker-label" : `place-label ${label.kind}`;
    node.textContent = label.text;
    const { anchor, offset } = chosen.spot;
    placed.push(new Marker({ element: node, anchor, offset }).setLngLat(chosen.at).addTo(map));
  }
}
