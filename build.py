#!/usr/bin/env python3
"""Build the site's posts from its notebooks. Run `python build.py --help` for the options."""
import sys
from pathlib import Path

from nbjekyll.cli import main

if __name__ == "__main__":
    sys.exit(main(default_site=Path(__file__).resolve().parent))
