"""casecenter — a law-enforcement case-handling center and its case-handling platform."""

__version__ = "0.1.0"
