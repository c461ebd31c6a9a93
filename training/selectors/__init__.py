"""Reads for the training app, one module per audience."""
