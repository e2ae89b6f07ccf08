"""Lesson 1 experiments (to be written)."""

EXPERIMENTS = ()
