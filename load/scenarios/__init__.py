"""The scenario families, one locust user class each (see ../README.md for the mix)."""
