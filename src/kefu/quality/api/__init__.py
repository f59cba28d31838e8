"""The quality routers: one module per topic, each with ``router`` under /api/quality/<topic>."""
