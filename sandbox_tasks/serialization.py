"""Lesson 7: what survives the trip through JSON."""
