"""Transfer slips: signed custody from producer to utiliser, written into both ledgers."""
