"""Chainage: references and ranges along a border resolved to geometry, and the reverse."""
