"""Benchmark one training step of the series' CNN in several frameworks, each in a fresh process.

A *step file* is a Python file that defines one or more *contenders*: functions

    name(x, y, params, learning_rate, threads) -> step

where ``x`` (float32, NCHW), ``y`` (int64) and ``params`` (float32, reference layout) are NumPy
arrays from ``digits_cnn``. A contender builds the model from ``params``, moves the batch into the
framework's own tensors and returns ``step``: a function that runs one training step (forward,
backward, SGD update) on that batch, returns only when the step has finished, and returns the
loss of the batch as computed before the update. Every top-level function of a step file with
exactly those five parameters is a contender, named after the function.

A step file whose first lines contain ``# kernel: NAME`` runs under the interpreter and the
environment of the Jupyter kernel NAME (found with jupyter_client's kernelspec search, so
JUPYTER_PATH decides): that is how CNTK, which exists only for Python 3.6, takes part. When that
kernel is not installed, its contenders are reported as not measured instead of failing the run.

``run()`` repeats the whole benchmark ``repeats`` times. Each repeat starts one worker process per
contender (``python backprop_speed.py --worker FILE --contender NAME``) and one that measures the
machine's limits (a large float32 matrix product, and NumPy copy and add bandwidth), in an order
shuffled afresh for every repeat from a fixed seed, so that a slow spell of the machine falls on
different contenders in different repeats. Every worker gets the same thread settings; each
runs ``measure()`` for every batch size and writes its timings as JSON.

The worker side of this file (everything a worker process runs) is kept valid Python 3.6.

On the command line:

    python backprop_speed.py STEP_FILE... [--quick] [--repeats R] [--out results.json]
"""
import argparse
import ast
import gc
import importlib.util
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BATCH_SIZES = (1, 32, 256, 1024)   # batch 1: the fixed cost of a step
ORDER_SEED = 2018                  # the shuffled order of the workers in each repeat
FULL = {"repeats": 5, "steps": 40, "warmup": 10, "peak_size": 3072, "peak_repeats": 5,
        "stream_floats": 2 ** 24, "stream_repeats": 5}
QUICK = {"repeats": 1, "steps": 5, "warmup": 2, "peak_size": 1024, "peak_repeats": 3,
         "stream_floats": 2 ** 22, "stream_repeats": 3}
PACKAGES = ("numpy", "torch", "tensorflow", "keras", "jax", "jaxlib", "scikit-learn", "threadpoolctl")
CONTENDER_PARAMETERS = ["x", "y", "params", "learning_rate", "threads"]
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
             "avx512_vnni", "avx512_bf16", "amx_tile")


def default_threads():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_environment(threads):
    """The environment of every worker: the same thread count for every library's pool."""
    env = dict(os.environ)
    for name in THREAD_VARIABLES:
        env[name] = str(threads)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"          # TensorFlow's start-up chatter
    env["PYTHONPATH"] = os.pathsep.join([str(HERE)] + [p for p in [env.get("PYTHONPATH")] if p])
    if threads == 1:                            # XLA (JAX) has no thread-count setting but this
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                            " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    return env


# ---------------------------------------------------------------------------- inside a worker

def measure(step, steps, warmup):
    """Time `step` the same way for every framework; all times in seconds."""
    start = time.perf_counter()
    first_loss = float(step())           # first call: tracing / compilation happen here
    first = time.perf_counter() - start
    for _ in range(warmup):              # warm-up: caches, allocator, lazy initialisation
        step()
    gc.collect()
    gc.disable()                         # as timeit does: no collector pauses inside the timings
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    gc.enable()
    last_loss = float(step())            # after 1 + warmup + steps + 1 updates
    return {"first_step": first, "times": times, "first_loss": first_loss, "last_loss": last_loss}


def load_step_file(path):
    spec = importlib.util.spec_from_file_location(Path(path).stem, str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def worker(path, contender, batch_sizes, steps, warmup, threads):
    import numpy as np
    from digits_cnn import LEARNING_RATE, batch_order, initial_weights, load_digits_split

    start = time.perf_counter()
    setup = getattr(load_step_file(path), contender)
    result = {"file": Path(path).name, "contender": contender,
              "import_seconds": time.perf_counter() - start, "batches": {}}
    x_train, y_train, _, _ = load_digits_split()
    for batch_size in batch_sizes:
        chosen = batch_order(len(x_train), 0)[:batch_size]      # the first batch of epoch 0
        x, y = np.ascontiguousarray(x_train[chosen]), np.ascontiguousarray(y_train[chosen])
        start = time.perf_counter()
        step = setup(x, y, initial_weights(), LEARNING_RATE, threads)
        setup_seconds = time.perf_counter() - start
        timing = measure(step, steps, warmup)
        timing["setup_seconds"] = setup_seconds
        timing["info"] = getattr(step, "info", {})
        result["batches"][str(batch_size)] = timing
    result["process"] = process_facts()
    return result


def process_facts():
    """What a worker's process ran with: interpreter, library versions, thread pools."""
    facts = {"python": platform.python_version(), "versions": {}}
    for name in ("numpy", "torch", "tensorflow", "keras", "jax", "jaxlib", "cntk"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__version__", None):
            facts["versions"][name] = str(module.__version__)
    try:                                  # the BLAS and OpenMP libraries loaded, with their threads
        from threadpoolctl import threadpool_info
        facts["threadpools"] = [{k: pool.get(k) for k in ("internal_api", "version", "architecture",
                                                          "threading_layer", "num_threads")}
                                for pool in threadpool_info()]
    except ImportError:
        facts["threadpools"] = None
    if "torch" in sys.modules:            # the vector instructions PyTorch's kernels dispatch to
        torch = sys.modules["torch"]
        facts["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        facts["torch_threads"] = torch.get_num_threads()
    if "cntk" in sys.modules:
        facts["cntk_threads"] = sys.modules["cntk"].cntk_py.get_max_num_cputhreads()
    return facts


def _best_of(f, repeats):
    f()                                   # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return times


def machine_limits(size, repeats, stream_floats, stream_repeats):
    """The machine's practical limits, as NumPy reaches them.

    Arithmetic: float32 GFLOP/s of a size x size matrix product (BLAS, every thread).
    Memory: GB/s of two STREAM-like kernels [McCalpin] on float32 arrays far larger than the
    caches, each one NumPy call on one core: copy (b = a: reads a, writes b) and add
    (c = a + b: reads a and b, writes c), counting the bytes read and written, as STREAM does.
    """
    import numpy as np
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    c = np.empty_like(a)
    times = _best_of(lambda: np.matmul(a, b, out=c), repeats)
    flops = 2 * size ** 3
    out = {"size": size, "times": times, "gflops_best": flops / min(times) / 1e9,
           "gflops_median": flops / sorted(times)[len(times) // 2] / 1e9}
    a, b, c = (np.full(stream_floats, v, dtype=np.float32) for v in (1.0, 2.0, 0.0))
    nbytes = a.nbytes
    copy = _best_of(lambda: np.copyto(b, a), stream_repeats)
    add = _best_of(lambda: np.add(a, b, out=c), stream_repeats)
    out["stream"] = {"array_mib": nbytes / 2 ** 20,
                     "copy_gbs": 2 * nbytes / min(copy) / 1e9, "add_gbs": 3 * nbytes / min(add) / 1e9}
    return out


# ---------------------------------------------------------------------------- the machine

def _field(path, key):
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_caches():
    """The caches of CPU 0 as the kernel lists them, e.g. {'L1 Data': '32K', 'L3 Unified': '16384K'}."""
    caches = {}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level, kind, size = ((index / f).read_text().strip() for f in ("level", "type", "size"))
        except OSError:
            continue
        caches[f"L{level} {kind}"] = size
    return caches


def machine(threads):
    """The machine as the OS and the libraries report it at run time (no table of CPU names)."""
    from importlib import metadata
    import numpy as np

    flags = set((_field("/proc/cpuinfo", "flags") or "").split())
    mem_kb = _field("/proc/meminfo", "MemTotal")
    os_name = None
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        for dist in ([name, "tensorflow-cpu"] if name == "tensorflow" else [name]):
            try:
                versions[name] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                versions[name] = None
    try:
        gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        gcc = None
    try:
        config = np.show_config(mode="dicts")
        numpy_blas = config["Build Dependencies"]["blas"].get("openblas configuration") or \
            config["Build Dependencies"]["blas"].get("name")
        numpy_simd = config["SIMD Extensions"]
    except (TypeError, KeyError):
        numpy_blas = numpy_simd = None
    try:
        from threadpoolctl import threadpool_info
        blas = [{k: p.get(k) for k in ("internal_api", "version", "architecture", "threading_layer", "num_threads")}
                for p in threadpool_info() if p.get("user_api") == "blas"]
    except ImportError:
        blas = None
    return {
        "cpu": _field("/proc/cpuinfo", "model name") or platform.processor(),
        "cpu_vendor": _field("/proc/cpuinfo", "vendor_id"),
        "cpu_family_model": [_field("/proc/cpuinfo", "cpu family"), _field("/proc/cpuinfo", "model\t")],
        "virtual_machine": "hypervisor" in flags,
        "isa": {flag: flag in flags for flag in ISA_FLAGS},
        "caches": cpu_caches(),
        "logical_cpus": os.cpu_count(),
        "cpus_available": default_threads(),
        "threads_used": threads,
        "thread_settings": {name: str(threads) for name in THREAD_VARIABLES},
        "memory_gib": round(int(mem_kb.split()[0]) / 2 ** 20, 1) if mem_kb else None,
        "os": f"{os_name or platform.system()} (kernel {platform.release()})",
        "python": platform.python_version(),
        "gcc": gcc,
        "versions": versions,
        "numpy_blas": numpy_blas,
        "numpy_simd": numpy_simd,
        "blas": blas,
    }


# ---------------------------------------------------------------------------- the driver

def contenders_of(path):
    """[(contender, kernel or None)] of a step file, without importing it (it may be for another Python)."""
    text = Path(path).read_text()
    kernel = None
    for line in text.splitlines()[:5]:
        if line.startswith("# kernel:"):
            kernel = line.split(":", 1)[1].split()[0]
    names = [node.name for node in ast.parse(text).body
             if isinstance(node, ast.FunctionDef) and [a.arg for a in node.args.args] == CONTENDER_PARAMETERS]
    return [(name, kernel) for name in names]


def kernel_interpreter(name):
    """(python, environment variables) of the Jupyter kernel `name`; None when it is not installed."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return None
    python = shutil.which(spec.argv[0])
    return (python, dict(spec.env)) if python else None


def _run_worker(args, threads, timeout, python=None, extra_env=None, compiler_cache=None):
    env = worker_environment(threads)
    env.update(extra_env or {})
    with tempfile.TemporaryDirectory(prefix="backprop_speed_") as scratch:
        out_file = Path(scratch) / "result.json"
        # torch.compile keeps what it compiled here: empty in the first repeat, kept for the others
        env["TORCHINDUCTOR_CACHE_DIR"] = str(compiler_cache or Path(scratch) / "inductor")
        out = subprocess.run([python or sys.executable, str(Path(__file__).resolve()), *args,
                              "--result", str(out_file)],
                             env=env, capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0 or not out_file.exists():
            raise RuntimeError(f"worker {args} failed ({out.returncode}):\n{out.stderr[-3000:]}")
        return json.loads(out_file.read_text())


def run(step_files, quick=False, threads=None, repeats=None, batch_sizes=BATCH_SIZES, timeout=900,
        compiler_cache=None, log=print):
    """Every contender of every step file, `repeats` times, in a shuffled order per repeat.

    Returns a JSON-able dict: ``repeats[r]["frameworks"][contender]`` is one worker's timings,
    ``repeats[r]["limits"]`` the machine's limits measured in that repeat. `compiler_cache`, a
    folder, is given to torch.compile in every repeat instead of an empty one in the first.
    """
    settings = dict(QUICK if quick else FULL)
    if repeats:
        settings["repeats"] = repeats
    threads = threads or default_threads()
    contenders, not_measured, interpreters = [], {}, {}
    for path in step_files:
        for name, kernel in contenders_of(path):
            if kernel and kernel not in interpreters:
                interpreters[kernel] = kernel_interpreter(kernel)
            if kernel and interpreters[kernel] is None:
                not_measured[name] = f"kernel {kernel} not installed"
            else:
                contenders.append({"name": name, "file": str(path), "kernel": kernel})
    results = {"quick": quick, "settings": settings, "batch_sizes": list(batch_sizes), "threads": threads,
               "machine": machine(threads), "contenders": [c["name"] for c in contenders],
               "kernels": {c["name"]: c["kernel"] for c in contenders if c["kernel"]},
               "not_measured": not_measured, "repeats": []}
    jobs = ["limits"] + [c["name"] for c in contenders]
    by_name = {c["name"]: c for c in contenders}
    with tempfile.TemporaryDirectory(prefix="backprop_speed_cache_") as caches:
        for r in range(settings["repeats"]):
            order = random.Random(ORDER_SEED * 1000 + r).sample(jobs, len(jobs))
            repeat = {"order": order, "frameworks": {},
                      "compiler_cache": "given" if compiler_cache else ("empty" if r == 0 else "warm")}
            for job in order:
                start = time.perf_counter()
                if job == "limits":
                    repeat["limits"] = _run_worker(
                        ["--limits", *map(str, [settings[k] for k in ("peak_size", "peak_repeats",
                                                                       "stream_floats", "stream_repeats")])],
                        threads, timeout)
                else:
                    c = by_name[job]
                    python, extra_env = interpreters[c["kernel"]] if c["kernel"] else (None, None)
                    repeat["frameworks"][job] = _run_worker(
                        ["--worker", c["file"], "--contender", job,
                         "--batch-sizes", ",".join(map(str, batch_sizes)),
                         "--steps", str(settings["steps"]), "--warmup", str(settings["warmup"]),
                         "--threads", str(threads)],
                        threads, timeout, python, extra_env, compiler_cache or Path(caches) / job)
                log(f"repeat {r + 1}: {job} done ({time.perf_counter() - start:.0f} s)")
            results["repeats"].append(repeat)
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("files", nargs="*", help="step files, in the order to report them")
    p.add_argument("--quick", action="store_true", help="one repeat of a few steps, smaller limit measurements")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--compiler-cache", help="torch.compile's cache folder for every worker (default: "
                                            "a fresh one per contender, kept across its repeats)")
    p.add_argument("--out", help="write the results here as JSON (default: stdout)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--contender", help=argparse.SUPPRESS)
    p.add_argument("--limits", nargs=4, type=int, help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    p.add_argument("--batch-sizes", default=",".join(map(str, BATCH_SIZES)))
    p.add_argument("--steps", type=int, default=FULL["steps"])
    p.add_argument("--warmup", type=int, default=FULL["warmup"])
    args = p.parse_args(argv)
    if args.limits or args.worker:        # a worker: its result goes to a file, so that whatever a
        if args.limits:                   # library prints on stdout cannot get mixed into it
            result = machine_limits(*args.limits)
        else:
            result = worker(args.worker, args.contender, [int(b) for b in args.batch_sizes.split(",")],
                            args.steps, args.warmup, args.threads or default_threads())
        Path(args.result).write_text(json.dumps(result))
        return
    results = run(args.files, quick=args.quick, threads=args.threads, repeats=args.repeats,
                  batch_sizes=[int(b) for b in args.batch_sizes.split(",")],
                  compiler_cache=args.compiler_cache, log=lambda msg: print(msg, file=sys.stderr))
    text = json.dumps(results, indent=1)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
