"""Models of the voice app."""
