"""Lesson 6 experiments (to be written)."""

EXPERIMENTS = ()
