"""Lesson 3: what the decorator gives a function: bound tasks, retries."""
