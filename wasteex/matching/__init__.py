"""Matching offers of industrial solid waste to the plants that can use them.

A pure core (no Flask, no SQLAlchemy): :mod:`problem` holds the data types
and the compatibility rules, :mod:`solver` finds the allocation that moves
the most tonnes and, among those, the fewest tonne-km — exactly, as a
min-cost flow — and :mod:`explain` says why a demand got what it got.
:mod:`instance` and :mod:`cli` are the ``match-file`` JSON edge.
"""
