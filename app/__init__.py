"""bordermark: border-marker incident GIS service."""
