"""Approval procedures for works on the border, started by either side."""
