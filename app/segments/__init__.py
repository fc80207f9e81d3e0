"""Segments: the stretch of border line between consecutive marker positions."""
