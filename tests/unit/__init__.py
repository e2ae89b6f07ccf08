"""Fast tests of pure logic: no Redis, no worker, no browser."""
