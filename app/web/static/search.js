// Find a place as officers name it: a marker code (`1088/2`, `M834/1`, `836(2)`,
// `mốc 1090`), a chainage (`1248+470`), a range (`1042-1053/1`), a border gate (`Tân
// Thanh`) or a unit (`Mẫu Sơn`, `Lộc Bình`); fly there and draw the answer. Marker codes
// and ranges are resolved by the service's chainage endpoint on each border in turn (VN-CN
// first; `VN-LA:12` names the border), names by its gates and units registers.
import { ui } from "/map/static/words.js";

const BORDERS = ["VN-CN", "VN-LA", "VN-KH"];
const EMPTY = { type: "FeatureCollection", features: [] };

// Letters without their marks, lower case: `Tân Thanh` finds `tan thanh` and the reverse.
function fold(text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/gi, "d").toLowerCase().trim();
}

// A code, a chainage or a range starts with a digit once document words are off.
function looksLikeCode(text) {
  return /^(vn-[a-z]{2}:)?\s*((khu vực |cột )?mốc\s*|m)?\d/i.test(text.trim());
}

async function onTheLine(api, text) {
  const prefixed = /^(VN-[A-Z]{2}):/i.exec(text.trim());
  const borders = prefixed ? [prefixed[1].toUpperCase()] : BORDERS;
  for (const border of borders) {
    try {
      const ref = encodeURIComponent(text.trim());
      const found = await api(`/api/v1/chainage?border=${border}&ref=${ref}`);
      const p = found.properties;
      const what = found.geometry.type === "Point" ? `Mốc ${p.ref}` : `Đoạn ${p.ref}`;
      return { feature: found, label: `${what} (${p.border})` };
    } catch {
      // not on this border: try the next
    }
  }
  return null;
}

async function byName(api, text) {
  const wanted = fold(text);
  const gates = (await api("/api/v1/crossings")).features;
  const gate = gates.find((g) => fold(g.properties.name).includes(wanted));
  if (gate) return { feature: gate, label: `Cửa khẩu ${gate.properties.name}` };
  const units = (await api(`/api/v1/units?name=${encodeURIComponent(wanted)}`)).units;
  if (!units.length) return null;
  // The latest version of the best match: a province before its districts, then communes.
  const unit = units[units.length - 1];
  const detail = await api(`/api/v1/units/${encodeURIComponent(unit.code)}`);
  const latest = detail.versions[detail.versions.length - 1];
  return {
    feature: { type: "Feature", geometry: latest.geometry, properties: { code: unit.code } },
    label: `${latest.name_vi} (${latest.level})`,
  };
}

function bounds(geometry) {
  const points = [];
  const walk = (c) => (typeof c[0] === "number" ? points.push(c) : c.forEach(walk));
  walk(geometry.coordinates);
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return [[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]];
}

export function foundLayers() {
  return [
    {
      id: "found-area", type: "line", source: "found",
      filter: ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]],
      paint: { "line-color": "#000000", "line-width": 3, "line-dasharray": [3, 2] },
    },
    {
      id: "found-line", type: "line", source: "found",
      filter: ["in", ["geometry-type"], ["literal", ["LineString", "MultiLineString"]]],
      paint: { "line-color": "#ffd700", "line-width": 8, "line-opacity": 0.8 },
    },
    {
      id: "found-point", type: "circle", source: "found",
      filter: ["==", ["geometry-type"], "Point"],
      paint: {
        "circle-radius": 12, "circle-color": "rgba(0,0,0,0)",
        "circle-stroke-color": "#000000", "circle-stroke-width": 3,
      },
    },
  ];
}

export const foundSource = { type: "geojson", data: EMPTY };

// Wire the search form to the map: the answer is drawn in the `found` source.
export function wireSearch(map, api, form, input, result) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    result.textContent = ui("searching");
    let answer = null;
    try {
      answer = looksLikeCode(text) ? await onTheLine(api, text) : await byName(api, text);
    } catch (error) {
      console.error(error);
    }
    if (!answer) {
      map.getSource("found").setData(EMPTY);
      result.textContent = `${ui("not_found")}: ${text}`;
      return;
    }
    map.getSource("found").setData({ type: "FeatureCollection", features: [answer.feature] });
    result.textContent = answer.label;
    const geometry = answer.feature.geometry;
    if (geometry.type === "Point") {
      map.flyTo({ center: geometry.coordinates, zoom: Math.max(map.getZoom(), 14) });
    } else {
      map.fitBounds(bounds(geometry), { padding: 60, maxZoom: 15 });
    }
  });
}
