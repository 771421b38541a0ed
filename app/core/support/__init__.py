"""Support for every layer: the app's paths, logs, secrets, operator texts, spreadsheet
reading and safe cells for writing, and the kinds of error."""
