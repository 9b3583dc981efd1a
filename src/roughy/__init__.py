"""Roughy: a self-hostable media API for rough cuts."""

__version__ = "0.1.0"
