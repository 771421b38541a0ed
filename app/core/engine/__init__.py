"""The engine's machinery under its three roles: context and settings, events, recovery,
tracking, roll-up and the marketplaces' drivers."""
