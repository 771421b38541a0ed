"""The headless commands: demo, run, sandbox."""
