"""Lesson 2 experiments (to be written)."""

EXPERIMENTS = ()
