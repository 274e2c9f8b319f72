"""Imported by tracks_dependencies.ipynb."""
VALUE = "module value 1"
