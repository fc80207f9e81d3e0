"""The documents register: dispatches, notes, decisions, directives, minutes, reports."""
