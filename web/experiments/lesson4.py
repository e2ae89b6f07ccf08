"""Lesson 4 experiments (to be written)."""

EXPERIMENTS = ()
