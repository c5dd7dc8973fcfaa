"""The automated pharmacist's domain package (shipped as a Lambda layer)."""

__version__ = "0.1.0"
