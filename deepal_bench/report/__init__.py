"""The report: tables and figures recomputed from records, never from the loop."""
