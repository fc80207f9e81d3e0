"""Boundary markers: the register, their condition, their place along the line."""
