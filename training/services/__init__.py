"""Writes for the training app, one module per concern. Each function is a transaction."""
