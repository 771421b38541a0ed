"""The desktop console (PySide6): widgets and Qt models over app.core."""
