"""Background jobs: imports and exports that run outside the web workers, with progress."""
