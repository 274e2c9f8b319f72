"""``python -m nbjekyll COMMAND …``: the same commands as the ``nbjekyll`` console script."""
import sys

from .cli import run
from .hints import Invocation

if __name__ == "__main__":
    sys.exit(run(invocation=Invocation("python -m nbjekyll")))
