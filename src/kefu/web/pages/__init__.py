"""Server-rendered pages (Chinese, 1366×768, keyboard-friendly), one module per domain."""
