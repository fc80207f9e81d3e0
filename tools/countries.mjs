// The countries on both sides of Vietnam's land borders, for the map's shading and names:
// Natural Earth 1:10m admin-0 (public domain) from the npm package world-atlas, the same
// file the demo's border lines were cut from, so the shading's edge is the demo line.
// Run by tools/vendor-web: node tools/countries.mjs > app/web/vendor/places/countries.geojson
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("../web/package.json", import.meta.url));
const { feature } = require("topojson-client");
const { clipPolygon: clipRing } = await import(require.resolve("lineclip"));
const topo = JSON.parse(readFileSync(require.resolve("world-atlas/countries-10m.json"), "utf8"));

// ISO 3166 numeric (world-atlas's ids) -> alpha-2 and the names an officer reads.
const COUNTRIES = {
  704: ["VN", "Việt Nam", "Vietnam"],
  156: ["CN", "Trung Quốc", "China"],
  418: ["LA", "Lào", "Laos"],
  116: ["KH", "Campuchia", "Cambodia"],
};
// Six decimals (about 0.1 m): the demo lines' own precision.
const rounded = (c) => (Array.isArray(c[0]) ? c.map(rounded) : c.map((v) => Math.round(v * 1e6) / 1e6));
// Only the part around Vietnam (all of it, Laos, Cambodia, southern China): the whole of
// China cost the map 0.4 s to parse at every load. Clipping to a box keeps the vertices
// inside it as they are, so the shared arcs (the border) stay exact.
const AROUND = [99.5, 5.0, 112.5, 26.0];
function clipped(geometry) {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  const kept = polygons
    .map((rings) => rings.map((ring) => clipRing(ring, AROUND)).filter((ring) => ring.length >= 3))
    .filter((rings) => rings.length)
    .map((rings) => rings.map((ring) => (ring[0] === ring.at(-1) ? ring : [...ring, ring[0]])));
  return { type: "MultiPolygon", coordinates: kept };
}

const features = feature(topo, topo.objects.countries).features
  .filter((f) => COUNTRIES[Number(f.id)])
  .map((f) => {
    const [code, nameVi, nameEn] = COUNTRIES[Number(f.id)];
    return {
      type: "Feature",
      id: code,
      properties: { code, name_vi: nameVi, name_en: nameEn, home: code === "VN" },
      geometry: (({ type, coordinates }) => ({ type, coordinates: rounded(coordinates) }))(clipped(f.geometry)),
    };
  });
if (features.length !== Object.keys(COUNTRIES).length) throw new Error("a country is missing");
process.stdout.write(JSON.stringify({ type: "FeatureCollection", features }));
