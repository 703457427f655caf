"""The engine: compiled vectorised runs, the reference interpreter, the keyed generator."""
