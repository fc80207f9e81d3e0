"""Offline packages: one GeoPackage of a unit's area for a patrol without signal."""
