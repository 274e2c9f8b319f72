"""nbjekyll: execute Jupyter notebooks and write them as Jekyll posts.

One module per stage: ``config`` (read _config.yml) → ``sources`` (read a notebook) →
``execute`` (run it in a kernel) → ``convert`` (Markdown + images) → ``write`` (to the site);
``pipeline`` runs the stages for many notebooks and ``cli`` is the command line.
"""
__version__ = "0.1.0"
