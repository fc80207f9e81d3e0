// The officer's map: vector tiles from this service drawn with MapLibre GL JS (from npm,
// served by the service itself), a filter panel, a layer switch and incident details.
// Data is written into the page with textContent only (never innerHTML).
import { Map, NavigationControl } from "/map/vendor/maplibre-gl/maplibre-gl.mjs";
import { placeLabels } from "/map/static/labels.js";
import { foundLayers, foundSource, wireSearch } from "/map/static/search.js";
import {
  applyWords, currentLanguage, localTime, named, setLanguage, ui, word,
} from "/map/static/words.js";

const TOKEN_KEY = "bordermark.token";
const LAYER_GROUPS = {
  countries: ["countries-fill", "countries-line"],
  districts: ["districts-fill", "districts-line"],
  stations: ["stations-line"],
  segments: ["segments-recent", "segments-before", "segments"],
  markers: ["markers"],
  crossings: ["crossings"],
  surveys: ["survey-areas"],
  patrols: ["patrols"],
  repairs: ["marker-repairs"],
  disputes: ["disputed-areas-fill", "disputed-areas-point"],
  incidents: ["incidents-area", "incidents-line", "incidents-point"],
};
// One palette for categories, the line's clearing age and the markers' conditions, chosen
// so that every pair stays apart (CAM02-UCS distance at least 8) for normal vision and the
// three full colour blindnesses as colorspacious simulates them (tests/web: the palette
// test reads the colours back from the running map). Mostly Okabe-Ito's and Paul Tol's.
const CATEGORY_COLOURS = [
  "match", ["get", "category"],
  "fence", "#ee6677", "excavation", "#a6761d", "construction", "#7570b3",
  "marker_damage", "#aa3377", "marker_at_risk", "#cc79a7", "surveillance_equipment", "#66ccee",
  "aerial_flight", "#f0e442", "fire", "#762a83", "illegal_crossing", "#009e73",
  "#bbbbbb",
];
// The line by how long since it was cleared: colour and dashes (a second cue that needs no
// colour vision): solid under a year, dashed up to three, dotted older or never.
const CLEARED_RECENTLY = ["<", ["get", "days_since_cleared"], 365];
const CLEARED_BEFORE = ["<", ["get", "days_since_cleared"], 1095];
const LINE_AGE_COLOURS = [
  "case",
  ["!", ["has", "days_since_cleared"]], "#882255",
  CLEARED_RECENTLY, "#1b7837",
  CLEARED_BEFORE, "#e69f00",
  "#882255",
];
// River-bank pairs: the second marker of a pair or triple ("836(2)", "944/1(3)") is drawn
// as a ring in its condition's colour, the first filled, so the two banks read apart.
const SECOND_OF_PAIR = ["any", ["in", "(2)", ["get", "code"]], ["in", "(3)", ["get", "code"]]];
const CONDITION_COLOURS = [
  "match", ["get", "condition"],
  "intact", "#333333",
  "at_risk", "#f0e442",
  "#aa3377",
];
const UNIT_LEVELS = ["province", "district", "commune", "station"];
const CLOSED = ["in", ["get", "status"], ["literal", ["resolved", "dismissed"]]];

const state = {
  token: sessionStorage.getItem(TOKEN_KEY), map: null, labels: [], categories: {}, units: null,
  zones: {}, shown: null,
};
// Tests (and the curious) can reach the map and know when it is ready.
window.bordermark = { state, ready: false, open: (id) => openIncident(id) };

function api(path) {
  return fetch(path, { headers: { Authorization: `Bearer ${state.token}` } }).then((r) => {
    if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
    return r.json();
  });
}

function el(id) {
  return document.getElementById(id);
}

function tileUrl(layer, query = "") {
  const origin = window.location.origin;
  return `${origin}/tiles/${layer}/{z}/{x}/{y}.mvt${query ? "?" + query : ""}`;
}

function incidentQuery() {
  const params = new URLSearchParams();
  for (const box of document.querySelectorAll("input[name=status]:checked")) {
    params.append("status", box.value);
  }
  for (const option of el("category").selectedOptions) params.append("category", option.value);
  if (el("since").value) params.set("since", el("since").value);
  if (el("until").value) params.set("until", el("until").value);
  return params.toString();
}

// Extra radius for a point standing for `count` incidents: +2 px per tenfold, at most +10.
const GROUP_GROWTH = ["min", 10, ["*", 2, ["log10", ["coalesce", ["get", "count"], 1]]]];

function style() {
  const vector = (layer, query) => ({ type: "vector", tiles: [tileUrl(layer, query)], minzoom: 0, maxzoom: 16 });
  return {
    version: 8,
    sources: {
      // Natural Earth's countries (tools/countries.mjs), served with the map's own files.
      countries: { type: "geojson", data: `${window.location.origin}/map/vendor/places/countries.geojson` },
      districts: vector("districts"),
      segments: vector("segments"),
      markers: vector("markers"),
      crossings: vector("crossings"),
      "survey-areas": vector("survey-areas"),
      patrols: vector("patrols"),
      "marker-repairs": vector("marker-repairs"),
      "disputed-areas": vector("disputed-areas"),
      found: foundSource,
      incidents: vector("incidents", incidentQuery()),
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#dde7ef" } },
      {
        // Viet Nam light and warm, the neighbours grey: which side is which at a glance.
        id: "countries-fill", type: "fill", source: "countries",
        paint: { "fill-color": ["case", ["get", "home"], "#fbf7ea", "#e4e4e0"] },
      },
      {
        id: "countries-line", type: "line", source: "countries",
        paint: { "line-color": "#8c8c8c", "line-width": 0.6 },
      },
      {
        // Districts lightened; every unit filled (unseen but for districts) so that the
        // labels can find the unit the view lies in, even where none of its edges shows.
        id: "districts-fill", type: "fill", source: "districts", "source-layer": "districts",
        filter: unitsOn(unitDay(), UNIT_LEVELS),
        paint: { "fill-color": "#ffffff", "fill-opacity": ["match", ["get", "level"], "district", 0.6, 0] },
      },
      {
        id: "districts-line", type: "line", source: "districts", "source-layer": "districts",
        // The units valid on the map's day (stations, which overlap them, have their own layer).
        filter: unitsOn(unitDay(), ["province", "district", "commune"]),
        paint: {
          "line-color": "#9aa5b1",
          "line-width": ["match", ["get", "level"], "province", 1.5, "district", 0.8, 0.4],
        },
      },
      {
        // Border Guard stations' areas overlap the districts: dashed, off until ticked.
        id: "stations-line", type: "line", source: "districts", "source-layer": "districts",
        filter: unitsOn(unitDay(), ["station"]),
        layout: { visibility: "none" },
        paint: { "line-color": "#2166ac", "line-width": 1.5, "line-dasharray": [4, 2] },
      },
      {
        id: "segments-recent", type: "line", source: "segments", "source-layer": "segments",
        filter: ["all", ["has", "days_since_cleared"], CLEARED_RECENTLY],
        paint: { "line-width": 3, "line-color": LINE_AGE_COLOURS },
      },
      {
        id: "segments-before", type: "line", source: "segments", "source-layer": "segments",
        filter: ["all", ["has", "days_since_cleared"], ["!", CLEARED_RECENTLY], CLEARED_BEFORE],
        paint: { "line-width": 3, "line-color": LINE_AGE_COLOURS, "line-dasharray": [3, 1.5] },
      },
      {
        id: "segments", type: "line", source: "segments", "source-layer": "segments",
        filter: ["any", ["!", ["has", "days_since_cleared"]], ["!", CLEARED_BEFORE]],
        paint: { "line-width": 3, "line-color": LINE_AGE_COLOURS, "line-dasharray": [1, 1] },
      },
      {
        id: "markers", type: "circle", source: "markers", "source-layer": "markers", minzoom: 7,
        paint: {
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 7, 1.5, 12, 4],
          // Intact markers quiet; the register's other conditions stand out.
          "circle-color": ["case", SECOND_OF_PAIR, "#ffffff", CONDITION_COLOURS],
          "circle-stroke-color": ["case", SECOND_OF_PAIR, CONDITION_COLOURS, "#ffffff"],
          "circle-stroke-width": ["case", SECOND_OF_PAIR, 1.5, 1],
        },
      },
      {
        // Gates and crossings: green while open, red suspended, blue on the way, grey unknown.
        id: "crossings", type: "circle", source: "crossings", "source-layer": "crossings",
        paint: {
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 5, 4, 12, 8],
          "circle-color": [
            "match", ["get", "status"],
            ["open", "reopened", "upgraded"], "#1a9641",
            "suspended", "#d7191c",
            ["planned", "approved"], "#2c7bb6",
            "#9aa5b1",
          ],
          "circle-stroke-color": "#000000", "circle-stroke-width": 1.5,
        },
      },
      {
        // Surveyed areas and patrol routes: outlines, dashed, so they never hide what lies
        // in them; off until ticked.
        id: "survey-areas", type: "line", source: "survey-areas", "source-layer": "survey-areas",
        layout: { visibility: "none" },
        paint: { "line-color": "#7570b3", "line-width": 2, "line-dasharray": [2, 1] },
      },
      {
        id: "patrols", type: "line", source: "patrols", "source-layer": "patrols",
        layout: { visibility: "none" },
        paint: { "line-color": "#2c7bb6", "line-width": 3, "line-dasharray": [1, 1] },
      },
      {
        // Repairs and restorations: a ring round the marker, filled once done.
        id: "marker-repairs", type: "circle", source: "marker-repairs", "source-layer": "marker-repairs",
        layout: { visibility: "none" },
        paint: {
          "circle-radius": 7, "circle-stroke-color": "#01665e", "circle-stroke-width": 2,
          "circle-color": ["match", ["get", "status"], "done", "#01665e", "rgba(0,0,0,0)"],
        },
      },
      {
        // Disputed areas: where the two sides' views of the line differ.
        id: "disputed-areas-fill", type: "fill", source: "disputed-areas", "source-layer": "disputed-areas",
        filter: ["==", ["geometry-type"], "Polygon"],
        paint: { "fill-color": "#762a83", "fill-opacity": 0.25, "fill-outline-color": "#762a83" },
      },
      {
        id: "disputed-areas-point", type: "circle", source: "disputed-areas", "source-layer": "disputed-areas",
        filter: ["==", ["geometry-type"], "Point"],
        paint: {
          "circle-radius": 9, "circle-color": "rgba(0,0,0,0)",
          "circle-stroke-color": "#762a83", "circle-stroke-width": 3,
        },
      },
      {
        id: "incidents-area", type: "fill", source: "incidents", "source-layer": "incidents",
        filter: ["==", ["geometry-type"], "Polygon"],
        paint: { "fill-color": CATEGORY_COLOURS, "fill-opacity": ["case", CLOSED, 0.2, 0.5] },
      },
      {
        id: "incidents-line", type: "line", source: "incidents", "source-layer": "incidents",
        filter: ["==", ["geometry-type"], "LineString"],
        paint: { "line-color": CATEGORY_COLOURS, "line-width": 4, "line-opacity": ["case", CLOSED, 0.4, 1] },
      },
      {
        id: "incidents-point", type: "circle", source: "incidents", "source-layer": "incidents",
        filter: ["==", ["geometry-type"], "Point"],
        paint: {
          // A grouped point (a dense tile's cell, see tiles/dense.py) grows with its count.
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 5, ["+", 5, GROUP_GROWTH], 12, ["+", 9, GROUP_GROWTH]],
          "circle-color": CATEGORY_COLOURS,
          "circle-opacity": ["case", CLOSED, 0.4, 1],
          // Severity as the ring's weight: a cue that needs no colour vision.
          "circle-stroke-color": ["match", ["get", "severity"], ["critical", "high"], "#000000", "#444444"],
          "circle-stroke-width": ["match", ["get", "severity"], "critical", 3, "high", 2, 1],
        },
      },
      // What the search found, above everything.
      ...foundLayers(),
    ],
  };
}

// The day whose units the map draws: the filter's "to" day, else the last day districts
// existed (they ended on 1 Jul 2025), so that each place shows one district, not the
// versions of every year on top of one another.
const LAST_DISTRICT_DAY = "2025-06-30";
function unitDay() {
  const chosen = document.getElementById("until");
  return (chosen && chosen.value) || LAST_DISTRICT_DAY;
}

function unitsOn(day, levels) {
  return ["all",
    ["in", ["get", "level"], ["literal", levels]],
    ["<=", ["get", "valid_from"], day],
    ["any", ["!", ["has", "valid_to"]], [">", ["get", "valid_to"], day]]];
}

function refreshIncidents() {
  // Layers first: a layout change made after setTiles() cancels the source's reload
  // (seen with MapLibre 6.17). No status ticked means "show none", not "no filter".
  state.map.setFilter("districts-fill", unitsOn(unitDay(), UNIT_LEVELS));
  state.map.setFilter("districts-line", unitsOn(unitDay(), ["province", "district", "commune"]));
  state.map.setFilter("stations-line", unitsOn(unitDay(), ["station"]));
  switchLayers();
  state.map.getSource("incidents").setTiles([tileUrl("incidents", incidentQuery())]);
}

function switchLayers() {
  const anyStatus = document.querySelector("input[name=status]:checked") !== null;
  for (const box of document.querySelectorAll("input[name=layer]")) {
    const shown = box.checked && (box.value !== "incidents" || anyStatus);
    for (const id of LAYER_GROUPS[box.value]) {
      state.map.setLayoutProperty(id, "visibility", shown ? "visible" : "none");
    }
  }
  placeLabels(state.map, state.labels);
}

// A details row's value: text, or nodes (links, photos) built here with textContent only.
function show(fields, history, title) {
  el("details").hidden = false;
  el("details-title").textContent = title;
  const list = el("details-fields");
  list.replaceChildren();
  for (const [name, value] of fields) {
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) continue;
    const dt = document.createElement("dt");
    dt.textContent = ui(name);
    dt.dataset.field = name;
    const dd = document.createElement("dd");
    if (Array.isArray(value)) dd.append(...value);
    else dd.textContent = String(value);
    list.append(dt, dd);
  }
  const items = el("details-history");
  items.replaceChildren();
  for (const entry of history) {
    const li = document.createElement("li");
    const moved = entry.changes && entry.changes.status ? word("status", entry.changes.status.to) : entry.action;
    const cited = entry.document_ref ? `${ui("document")}: ${entry.document_ref}` : null;
    li.textContent = [localTime(entry.effective_at || entry.at), moved, entry.actor, entry.note, cited]
      .filter(Boolean).join(" · ");
    items.append(li);
  }
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.target = "_blank";
  a.rel = "noopener";
  a.textContent = text;
  return a;
}

// Photos are fetched with the token (an <img> cannot send it) and shown from blob: URLs.
function photos(incidentId, attachments) {
  return (attachments || []).filter((a) => String(a.media_type || "").startsWith("image/")).map((a) => {
    const img = document.createElement("img");
    img.className = "thumbnail";
    img.alt = a.filename || a.sha256;
    fetch(`/api/v1/incidents/${encodeURIComponent(incidentId)}/attachments/${a.sha256}`, {
      headers: { Authorization: `Bearer ${state.token}` },
    }).then((r) => (r.ok ? r.blob() : null)).then((blob) => {
      if (blob) img.src = URL.createObjectURL(blob);
    }).catch(() => {});
    return img;
  });
}

async function zonesOf(border) {
  if (!(border in state.zones)) {
    const found = await api(`/api/v1/borders/${encodeURIComponent(border)}`).catch(() => null);
    const zones = (found && (found.properties || found).zones) || [];
    state.zones[border] = Object.fromEntries(zones.map((z) => [z.code, { vi: z.name_vi, en: z.name_en }]));
  }
  return state.zones[border];
}

function metres(value) {
  return typeof value === "number" ? `${Math.round(value).toLocaleString("vi-VN")} ${ui("metres")}` : null;
}

async function openIncident(id) {
  const [incident, history] = await Promise.all([
    api(`/api/v1/incidents/${encodeURIComponent(id)}`),
    api(`/api/v1/incidents/${encodeURIComponent(id)}/history`),
  ]);
  const p = incident.properties;
  const [zones, units] = await Promise.all([zonesOf(p.border), unitNames()]);
  const marker = p.nearest_marker ? `${p.nearest_marker} (${metres(p.nearest_marker_distance_m)})` : null;
  const articles = (p.breaches || []).map((b) => `${b.article}: ${b.summary}`).join("; ");
  const fields = [
    ["f_category", named(state.categories, p.category)], ["f_status", word("status", p.status)],
    ["f_severity", word("severity", p.severity)], ["f_when", localTime(p.occurred_at)],
    ["f_where", p.location_ref || p.chainage_ref], ["f_marker", marker],
    ["f_chainage", p.chainage_ref], ["f_line", metres(p.distance_to_line_m)],
    ["f_side", word("side", p.side)], ["f_province", named(units, p.province)],
    ["f_district", named(units, p.district)], ["f_commune", named(units, p.commune)],
    ["f_zones", (p.zones || []).map((z) => named(zones, z)).join(", ")], ["f_articles", articles],
    ["f_description", p.description], ["f_photos", photos(incident.id, p.attachments)],
    ["f_links", [
      link(`/ogc/collections/incidents/items/${encodeURIComponent(incident.id)}?f=html`, ui("ogc_item")),
      document.createTextNode(" · "),
      link(`/api/v1/incidents/${encodeURIComponent(incident.id)}`, ui("export")),
    ]],
    ["f_id", incident.id],
  ];
  show(fields, history.history || [], p.title);
  el("details").dataset.incident = incident.id;
  state.shown = incident.id;
}

// Unit codes to names (every version; the latest name wins), fetched when the details
// panel first needs them.
async function unitNames() {
  if (!state.units) {
    state.units = api("/api/v1/units").then((found) =>
      Object.fromEntries((found.units || []).map((unit) => [unit.code, unit.name_vi])));
  }
  return state.units;
}

async function loadCategories() {
  const categories = await api("/api/v1/incident-categories");
  for (const c of categories) state.categories[c.code] = { vi: c.name_vi, en: c.name_en };
  nameCategories();
  if (state.map.isStyleLoaded()) drawLegend();
  else state.map.once("load", drawLegend);
}

function nameCategories() {
  const select = el("category");
  const chosen = new Set([...select.selectedOptions].map((o) => o.value));
  select.replaceChildren();
  for (const code of Object.keys(state.categories)) {
    const option = document.createElement("option");
    option.value = code;
    option.selected = chosen.has(code);
    option.textContent = `${named(state.categories, code)} (${code})`;
    select.append(option);
  }
}

// Vietnamese by default; the switch redraws every word the page shows.
function switchLanguage() {
  setLanguage(currentLanguage() === "vi" ? "en" : "vi");
  applyWords(document);
  nameCategories();
  drawLegend();
  placeLabels(state.map, state.labels);
  if (state.shown) openIncident(state.shown).catch((error) => console.error(error));
}

// The legend is read off the layers' own paint (the match expressions), so it cannot
// disagree with what is drawn.
function swatches(expression) {
  const pairs = [];
  for (let i = 2; i < expression.length - 1; i += 2) {
    for (const value of [].concat(expression[i])) pairs.push([value, expression[i + 1]]);
  }
  return pairs;
}

function legendRow(colour, text, shape) {
  const row = document.createElement("li");
  const swatch = document.createElement("span");
  swatch.className = `swatch ${shape}`;
  swatch.style.background = colour;
  row.append(swatch, ` ${text}`);
  return row;
}

function drawLegend() {
  const incidents = el("legend-categories");
  incidents.replaceChildren();
  for (const [code, colour] of swatches(CATEGORY_COLOURS)) {
    incidents.append(legendRow(colour, named(state.categories, code), "dot"));
  }
  incidents.append(legendRow(CATEGORY_COLOURS[CATEGORY_COLOURS.length - 1], ui("other_category"), "dot"));
  const markers = el("legend-markers");
  markers.replaceChildren();
  // The markers' paint is a case (rings for the second of a pair) around the conditions.
  const paint = state.map.getPaintProperty("markers", "circle-color")
    .find((part) => Array.isArray(part) && part[0] === "match");
  for (const [code, colour] of swatches(paint)) {
    markers.append(legendRow(colour, word("condition", code), "dot"));
  }
  markers.append(legendRow(paint[paint.length - 1], ui("other_conditions"), "dot"));
  markers.append(legendRow("#ffffff", ui("second_of_pair"), "dot ring"));
}

function start() {
  el("login").hidden = true;
  el("panel").hidden = false;
  const map = new Map({
    container: "map",
    style: style(),
    center: [105.2, 21.6],
    zoom: 6,
    hash: true, // the view in the address (#zoom/lat/lon): a link opens the same place
    attributionControl: false,
    transformRequest: (url) =>
      url.startsWith(window.location.origin) ? { url, headers: { Authorization: `Bearer ${state.token}` } } : { url },
  });
  state.map = map;
  window.bordermark.map = map;
  map.addControl(new NavigationControl(), "top-right");
  map.on("click", ["incidents-point", "incidents-line", "incidents-area"], (event) => {
    const feature = event.features && event.features[0];
    if (!feature) return;
    if ((feature.properties.count || 1) > 1) {
      // A cell standing for several incidents: zoom in until they come apart.
      map.easeTo({ center: event.lngLat, zoom: Math.min(map.getZoom() + 2, 16) });
    } else {
      openIncident(feature.properties.id).catch((error) => console.error(error));
    }
  });
  for (const id of LAYER_GROUPS.incidents) {
    map.on("mouseenter", id, () => (map.getCanvas().style.cursor = "pointer"));
    map.on("mouseleave", id, () => (map.getCanvas().style.cursor = ""));
  }
  map.on("idle", () => placeLabels(map, state.labels)); // after a move's tiles have loaded
  map.once("idle", () => (window.bordermark.ready = true));
  for (const input of document.querySelectorAll("#filters input, #filters select")) {
    input.addEventListener("change", refreshIncidents);
  }
  for (const input of document.querySelectorAll("input[name=layer]")) {
    input.addEventListener("change", switchLayers);
  }
  loadCategories().catch((error) => console.error(error));
  el("language").addEventListener("click", switchLanguage);
  wireSearch(map, api, el("search"), el("search-text"), el("search-result"));
}

async function signIn(token) {
  state.token = token;
  try {
    await api("/ogc");
  } catch (error) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    throw error;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  start();
}

el("login").addEventListener("submit", (event) => {
  event.preventDefault();
  const message = el("login-error");
  message.hidden = true;
  signIn(el("token").value.trim()).catch((error) => {
    message.textContent = `${ui("token_refused")} (${error.message})`;
    message.hidden = false;
  });
});
el("logout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  window.location.reload();
});
setLanguage(currentLanguage());
applyWords(document);
if (state.token) signIn(state.token).catch(() => (el("login").hidden = false));
