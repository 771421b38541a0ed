"""Storage: database setup, the group-committing writer, the Task journal, read queries,
and what a database error means."""
