"""Maps of Ordos: the market's listings by banner now, the regulator's choropleth later.

The banners come from a vendored GeoJSON (``static/vendor/ordos/``, see ``make vendor``);
its coordinates may be GCJ-02 while site coordinates are WGS-84, so point maps are
schematic (a few hundred metres off at most), which is fine at the scale of a city.
"""
