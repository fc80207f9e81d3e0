// The countries on both sides of Vietnam's land borders, for the map's shading and names:
// Natural Earth 1:10m admin-0 (public domain) from the npm package world-atlas, the same
// file the demo's border lines were cut from, so the shading's edge is the demo line.
// Run by tools/vendor-web: node tools/countries.mjs > app/web/vendor/places/countries.geojson
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("../web/package.json", import.meta.url));
const { feature } = require("topojson-client");
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

const features = feature(topo, topo.objects.countries).features
  .filter((f) => COUNTRIES[Number(f.id)])
  .map((f) => {
    const [code, nameVi, nameEn] = COUNTRIES[Number(f.id)];
    return {
      type: "Feature",
      id: code,
      properties: { code, name_vi: nameVi, name_en: nameEn, home: code === "VN" },
      geometry: { type: f.geometry.type, coordinates: rounded(f.geometry.coordinates) },
    };
  });
if (features.length !== Object.keys(COUNTRIES).length) throw new Error("a country is missing");
process.stdout.write(JSON.stringify({ type: "FeatureCollection", features }));
