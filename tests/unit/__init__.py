"""Unit tests: the pure logic, fed with synthetic input, no Redis, worker or browser."""
