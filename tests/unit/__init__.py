"""Fast tests of the pure logic, fed with synthetic Celery events: no Redis, worker or socket."""
