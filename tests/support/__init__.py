"""Helpers the tests share: the running stack (Redis, worker, web), learners over HTTP and
websockets, learners in a browser page, classroom people, the quiz course, the nginx proxy, the
playground stack and the accessibility check. Fixtures stay in tests/conftest.py."""
