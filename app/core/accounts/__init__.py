"""Marketplace accounts: the pool and its leases, stored sessions, import, health checks."""
