"""Lesson 2: tasks that use the Flask app they are wired to."""
