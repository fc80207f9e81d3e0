"""OGC API - Features (Part 1 core, GeoJSON) over the live data, read-only, same tokens."""
