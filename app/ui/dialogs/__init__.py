"""The console's dialogs: New order, imports, settings, the crash dialog."""
