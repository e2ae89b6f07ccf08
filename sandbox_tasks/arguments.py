"""Lesson 4: tasks that take arguments."""
