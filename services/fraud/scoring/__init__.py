"""Scoring every intake event and case decision."""
