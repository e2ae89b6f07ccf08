"""Lesson 3 experiments (to be written)."""

EXPERIMENTS = ()
