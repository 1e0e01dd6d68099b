"""Recompute a whole project's consensus, agreement and annotator scores as a job (engine wiring below)."""
EMPTY_SUMMARY = {"computed_at": None, "overall": None, "per_label": {}, "histogram": [], "tasks": 0}
