"""What run.py (the entry point) uses to start the site: the command lines of Redis, the workers and
the web server, the supervisor that restarts them, waiting for each to answer, the gunicorn worker
class, and the LAN address learners join a classroom through. Nothing in web/ imports it."""
