"""The dashboard: pages over the public API, served by ``roughy serve`` at ``/``."""
