"""Orders: spec and validation, marketplaces' catalogs, creation, import and reports."""
