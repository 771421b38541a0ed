"""The console's views: Orders, the live Tasks table and its model, Accounts."""
