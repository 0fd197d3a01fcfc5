"""Demo data for a believable Ordos (invented figures; DOMAIN.md §8)."""
