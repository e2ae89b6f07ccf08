"""How the tests and the benchmark start Debian's Chromium (Playwright's own download cannot
work here): never a sandbox it cannot have in a container, and nothing that reaches out to the
network on its own (rule 5: loopback only)."""

CHROMIUM = "/usr/bin/chromium"

LAUNCH = {
    "executable_path": CHROMIUM,
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ],
}

# The extension offer Chromium sends with every websocket it opens (the site declines it,
# web/extensions.py); clients that stand in for browsers send it too.
WEBSOCKET_OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"
