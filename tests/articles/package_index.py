"""Facts about the Python package index that the CNTK post states, fetched once and committed.

The tests never reach the network: they read ``fixtures/cntk-wheels.json``, which records, for
each Python version the post names, whether the index has a Linux wheel of CNTK 2.7.post2, and
the date that was checked. To check again (it lists versions, downloads nothing):

    python tests/articles/package_index.py
"""
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "cntk-wheels.json"
PYTHONS = ["2.7", "3.5", "3.6", "3.7", "3.8", "3.11"]
VERSION = "2.7.post2"
PLATFORM = "manylinux1_x86_64"


def wheel_on_the_index(python_version: str) -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "cntk", "--only-binary=:all:",
         "--python-version", python_version, "--platform", PLATFORM],
        capture_output=True, text=True, timeout=120)
    if "No matching distribution found" in done.stderr:
        return False
    if "Available versions:" not in done.stdout:
        raise SystemExit(f"the package index did not answer for Python {python_version}: {done.stderr[-300:]}")
    return VERSION in done.stdout.split("Available versions:")[1].replace(" ", "").split(",")


def main() -> None:
    facts = {"package": "cntk", "version": VERSION, "platform": PLATFORM,
             "checked": dt.date.today().isoformat(),
             "wheel_for_python": {v: wheel_on_the_index(v) for v in PYTHONS}}
    FIXTURE.write_text(json.dumps(facts, indent=1) + "\n")
    print(f"wrote {FIXTURE}: {facts['wheel_for_python']}")


if __name__ == "__main__":
    main()
