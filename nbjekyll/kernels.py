"""The environment each notebook runs in, and the kernels a site makes for itself.

A notebook names its kernel in its kernelspec metadata. Most use ``python3``, the build's own
Python with ``requirements.txt``. A notebook that needs another interpreter (CNTK 2.7 exists
only for Python 3.6 and older) names a kernel declared under ``nbjekyll.kernels`` in
``_config.yml``; ``build.py --setup-kernels`` (part of ``make setup``) makes it inside the site:

    .kernels/envs/NAME/venv/                     a virtual environment of that Python version
    .kernels/envs/NAME/lib/                      old library names linked to installed ones
    .kernels/share/jupyter/kernels/NAME/         its kernelspec, whose metadata records what
                                                 it was made from

The build reads that record, never the interpreter, so knowing a notebook's environment costs
one small file read: the cache keys the notebook on the kernel's requirements and Python
version, and a kernel that is missing or made from older requirements is reported with the
command that fixes it instead of being started.
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .config import Config, KernelDeclaration
from .digests import file_digest
from .errors import BuildError
from .files import atomic_write
from .hints import Command

LIBRARY_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
                "/lib/x86_64-linux-gnu", "/lib64", "/lib", "/usr/local/lib")


@dataclass(frozen=True)
class Environment:
    """What a notebook's kernel runs in, as far as the build can know without starting it."""

    kernel: str
    requirements_file: str          # site-relative, as people name it in messages
    requirements: str | None        # digest of that file
    python: str | None              # the interpreter's version; None while the kernel is not set up
    problem: str | None = None      # why it cannot run now (missing, out of date), with the fix


def kernels_share(config: Config) -> Path:
    """The Jupyter data folder holding the site's own kernelspecs (put on JUPYTER_PATH)."""
    return config.kernels_dir / "share" / "jupyter"


def spec_folder(config: Config, name: str) -> Path:
    return kernels_share(config) / "kernels" / name


def env_folder(config: Config, name: str) -> Path:
    return config.kernels_dir / "envs" / name


def _made_from(declaration: KernelDeclaration, config: Config) -> dict:
    """Everything a kernel is made from; a change to any of it means the kernel must be made again."""
    return {"python": declaration.python, "requirements": file_digest(config.site / declaration.requirements),
            "pip": declaration.pip, "library_links": [list(p) for p in declaration.library_links],
            "env": [list(p) for p in declaration.env], "display_name": declaration.display_name,
            "system_site_packages": declaration.system_site_packages}


def _installed_record(config: Config, name: str) -> dict | None:
    try:
        spec = json.loads((spec_folder(config, name) / "kernel.json").read_text(encoding="utf-8"))
        record = spec["metadata"]["nbjekyll"]
        python_exe = spec["argv"][0]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    if not isinstance(record, dict) or not os.access(python_exe, os.X_OK):
        return None
    return record


def environment_of(kernel: str, config: Config) -> Environment:
    declaration = config.kernels.get(kernel)
    if declaration is None:
        requirements = config.kernel_requirements
        return Environment(kernel, requirements or "",
                           file_digest(config.site / requirements) if requirements else None,
                           platform.python_version())
    requirements = file_digest(config.site / declaration.requirements)
    record = _installed_record(config, kernel)
    problem = None
    if record is None:
        needs = ", ".join((f"Python {declaration.python}",) + tuple(declaration.system_packages))
        problem = f"kernel {kernel!r} is not set up (it needs {needs}); create it with {config.command(Command.SETUP_KERNELS)}"
    elif record.get("made_from") != _made_from(declaration, config):
        changed = "its requirements" if record.get("made_from", {}).get("requirements") != requirements \
            else "its settings"
        problem = (f"kernel {kernel!r} is out of date ({changed} changed since it was set up); "
                   f"update it with {config.command(Command.SETUP_KERNELS)}")
    return Environment(kernel, declaration.requirements, requirements,
                       record.get("python_version") if record else None, problem)


def spec_manager(config: Config):
    """A KernelSpecManager that finds the site's own kernels first, then the usual Jupyter places."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_core.paths import jupyter_path
    return KernelSpecManager(kernel_dirs=[str(kernels_share(config) / "kernels")] + jupyter_path("kernels"))


# -- making the kernels ---------------------------------------------------------------------

class KernelSetupError(BuildError):
    """A declared kernel could not be made: the message says which, and what it needs."""


def _version_of(python: str) -> str | None:
    try:
        done = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _matches(version: str | None, wanted: str) -> bool:
    return version is not None and (version == wanted or version.startswith(wanted + "."))


def _version_key(text: str) -> tuple:
    return tuple(int(p) for p in re.findall(r"\d+", text))


def find_interpreter(wanted: str) -> tuple[str | None, list[str]]:
    """A Python of version ``wanted`` (from pyenv, a conda/micromamba environment or PATH), and where it looked."""
    looked = []
    roots = []
    if shutil.which("pyenv"):
        done = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip():
            roots.append(done.stdout.strip())
    roots += [r for r in (os.environ.get("PYENV_ROOT"), os.path.expanduser("~/.pyenv")) if r]
    major_minor = ".".join(wanted.split(".")[:2])
    for root in dict.fromkeys(roots):
        versions = Path(root) / "versions"
        looked.append(f"{versions}/{wanted}*")
        if not versions.is_dir():
            continue
        for folder in sorted(versions.iterdir(), key=lambda p: _version_key(p.name), reverse=True):
            candidate = folder / "bin" / f"python{major_minor}"
            if _matches(folder.name, wanted) and candidate.exists() and _matches(_version_of(str(candidate)), wanted):
                return str(candidate), looked
    conda_envs = [os.path.join(r, "envs") for r in (os.environ.get("MAMBA_ROOT_PREFIX"),
                                                    os.path.expanduser("~/micromamba"),
                                                    os.path.expanduser("~/miniconda3")) if r]
    for envs in dict.fromkeys(conda_envs):  # conda and micromamba environments (GitHub Actions uses one)
        looked.append(f"{envs}/*/bin/python{major_minor}")
        for candidate in sorted(Path(envs).glob(f"*/bin/python{major_minor}")) if os.path.isdir(envs) else []:
            if _matches(_version_of(str(candidate)), wanted):
                return str(candidate), looked
    for name in dict.fromkeys((f"python{major_minor}", f"python{wanted}")):
        looked.append(f"{name} on PATH")
        found = shutil.which(name)
        if found and _matches(_version_of(found), wanted):  # a pyenv shim of an inactive version fails here
            return found, looked
    return None, looked


def _find_library(name: str) -> str | None:
    try:
        cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    except OSError:
        cache = ""
    for line in cache.splitlines():
        parts = line.strip().split(" => ")
        if len(parts) == 2 and parts[0].split(" ")[0] == name and os.path.exists(parts[1]):
            return parts[1]
    for folder in LIBRARY_DIRS:
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    return None


def _run(command: list[str], what: str, name: str, env: dict | None = None) -> None:
    done = subprocess.run(command, env=env)
    if done.returncode != 0:
        raise KernelSetupError(f"kernel {name!r}: {what} failed (exit status {done.returncode}): "
                               f"{' '.join(command)}")


def setup_kernel(declaration: KernelDeclaration, config: Config, say=print) -> str:
    """Make one declared kernel, or leave it as it is when it is current; return what was done."""
    name = declaration.name
    requirements = config.site / declaration.requirements
    if not requirements.is_file():
        raise KernelSetupError(f"kernel {name!r}: {declaration.requirements} does not exist")
    environment = environment_of(name, config)
    if environment.problem is None:
        return f"up to date (Python {environment.python}, {declaration.requirements})"
    interpreter, looked = find_interpreter(declaration.python)
    if interpreter is None:
        raise KernelSetupError(f"kernel {name!r}: no Python {declaration.python} found (looked in "
                               f"{', '.join(looked)}); install it, e.g. pyenv install {declaration.python}")
    links = {}
    for old, new in declaration.library_links:
        target = _find_library(new)
        if target is None:
            packages = f" (Debian: apt-get install {' '.join(declaration.system_packages)})" \
                if declaration.system_packages else ""
            raise KernelSetupError(f"kernel {name!r}: the library {new} is not installed{packages}")
        links[old] = target

    spec_dir, env_dir = spec_folder(config, name), env_folder(config, name)
    shutil.rmtree(spec_dir, ignore_errors=True)  # until the end the kernel reads as missing, never half-made
    shutil.rmtree(env_dir, ignore_errors=True)
    venv, lib = env_dir / "venv", env_dir / "lib"
    python = str(venv / "bin" / "python")
    say(f"kernel {name}: creating a Python {declaration.python} environment from {interpreter}")
    inherit = ["--system-site-packages"] if declaration.system_site_packages else []
    _run([interpreter, "-m", "venv", *inherit, str(venv)], "creating the virtual environment", name)
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input"]
    if declaration.pip:
        _run(pip + [declaration.pip], f"installing {declaration.pip}", name)
    say(f"kernel {name}: installing {declaration.requirements}")
    _run(pip + ["--requirement", str(requirements)], f"installing {declaration.requirements}", name)
    lib.mkdir(parents=True)
    for old, target in links.items():
        os.symlink(target, lib / old)

    kernel_env = dict(declaration.env)
    if links:
        kernel_env["LD_LIBRARY_PATH"] = str(lib)
    check_env = {**os.environ, **kernel_env}
    for module in ("ipykernel",) + tuple(declaration.imports):
        _run([python, "-c", f"import {module}"], f"importing {module}", name, env=check_env)
    version = _version_of(python)
    spec = {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": declaration.display_name,
        "language": "python",
        "env": kernel_env,
        "metadata": {"nbjekyll": {"python_version": version, "made_from": _made_from(declaration, config)}},
    }
    spec_dir.mkdir(parents=True)
    atomic_write(spec_dir / "kernel.json", (json.dumps(spec, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    return f"created (Python {version}, {declaration.requirements})"


def setup_kernels(config: Config, say=print, only: set[str] | None = None) -> list[tuple[str, str | None, str | None]]:
    """Make every declared kernel (or those in ``only``); (name, what was done, error) for each,
    the others go on after a failure."""
    results = []
    for declaration in config.kernels.values():
        if only is not None and declaration.name not in only:
            continue
        try:
            results.append((declaration.name, setup_kernel(declaration, config, say), None))
        except KernelSetupError as exc:
            results.append((declaration.name, None, str(exc)))
    return results

