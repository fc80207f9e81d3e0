"""Exports of incidents, markers, segments and clearing works: GeoJSON and CSV streamed from
a server-side cursor, GeoPackage and KML written through GDAL (pyogrio) in chunks."""
