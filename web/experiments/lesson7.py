"""Lesson 7 experiments (to be written)."""

EXPERIMENTS = ()
