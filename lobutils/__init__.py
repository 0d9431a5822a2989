"""lobutils."""
