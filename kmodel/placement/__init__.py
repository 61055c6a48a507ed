"""Placement with Z3 (work in progress)."""
