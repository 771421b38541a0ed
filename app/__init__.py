"""Buyback console: clients' purchase orders into finished, tracked purchases."""

__version__ = "0.1.0"
