"""Models of the congress app."""
