"""The official lists: waste categories, quality attributes, utilisation and disposal routes."""
