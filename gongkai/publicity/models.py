"""Models of the publicity app."""
