"""The live system: what happens to a task, and how its events reach the browser."""
