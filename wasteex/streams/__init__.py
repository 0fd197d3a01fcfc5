"""An enterprise's waste streams, their quality values and lab reports."""
