"""The demo dataset: real border lines (Natural Earth 1:10m), illustrative markers and
districts, and an idempotent loader (`bordermark seed`)."""
