"""Geodesy and grammar of the border: marker codes, chainage, CRS, geometry validation."""
