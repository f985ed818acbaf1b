"""sheets-connector: keep an inwise contact list in a spreadsheet."""
__version__ = "0.1.0"
