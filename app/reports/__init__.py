"""Per-district summaries for analysts: JSON, CSV (Excel-ready) and XLSX."""
