"""Imports of markers, incidents and clearing works from GeoJSON, CSV and GeoPackage."""
