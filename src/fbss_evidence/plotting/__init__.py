"""Figures drawn from the statistics in fbss_evidence.stats (no computation here)."""
