"""WasteEx: the Ordos industrial solid-waste exchange and full-lifecycle ledger."""
from wasteex.app import create_app

__all__ = ["create_app"]
