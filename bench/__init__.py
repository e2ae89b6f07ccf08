"""Benchmarks: the site measured against raw Celery, under a classroom load, and its pages.

Run with ``python -m bench`` (``make bench``); see bench/README.md. Never part of the tests.
"""
