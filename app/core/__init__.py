"""Domain model and the order-processing engine; imports no Qt."""
