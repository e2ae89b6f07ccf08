"""The site's Celery worker parts, chosen through config.py's settings: a threads pool that grows
and shrinks on command, and a consumer made to survive a broker outage."""
