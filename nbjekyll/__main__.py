"""``python -m nbjekyll COMMAND …``: the same commands as the ``nbjekyll`` console script."""
from .cli import exit_with, run
from .hints import Invocation

if __name__ == "__main__":
    exit_with(run(invocation=Invocation("python -m nbjekyll")))
