"""What keeps one client from hurting the others: the Origin check and rate limits (guard),
security headers, admission of new sockets and held calls, and per-process capacity limits."""
