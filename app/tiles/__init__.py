"""Mapbox vector tiles built in PostGIS (ST_AsMVT), with TileJSON per layer."""
