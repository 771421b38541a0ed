"""Purchase drivers: the protocol (base), the sandbox Playwright driver and browser lookup."""
