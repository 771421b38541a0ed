"""Support for every layer: the app's paths, logs, secrets, operator texts, spreadsheet
reading, and the kinds of error."""
