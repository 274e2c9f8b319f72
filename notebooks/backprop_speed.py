"""Benchmark one training step of the series' CNN in several frameworks, each in a fresh process.

A *step file* is a Python file that defines

    setup(x, y, params, learning_rate, threads) -> step

where ``x`` (float32, NCHW), ``y`` (int64) and ``params`` (float32, reference layout) are NumPy
arrays from ``digits_cnn``. ``setup`` builds the model from ``params``, moves the batch into the
framework's own tensors and returns ``step``: a function that runs one training step (forward,
backward, SGD update) on that batch, returns only when the step has finished, and returns the
loss of the batch as computed before the update.

``run()`` starts one worker process per step file (``python backprop_speed.py --worker FILE``)
with the same thread settings for all of them, and one more that measures the machine's float32
matrix-multiply rate with a large NumPy product. Each worker runs ``measure()`` for every batch
size and reports its timings as JSON. On the command line:

    python backprop_speed.py STEP_FILE... [--quick] [--out results.json]
"""
import argparse
import gc
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
BATCH_SIZES = (1, 32, 256, 1024)   # batch 1: the fixed cost of a step
FULL = {"steps": 200, "warmup": 30, "peak_size": 3072, "peak_repeats": 10}
QUICK = {"steps": 10, "warmup": 3, "peak_size": 2048, "peak_repeats": 5}
PACKAGES = ("numpy", "torch", "tensorflow", "keras", "jax", "jaxlib", "scikit-learn")


def default_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_environment(threads: int) -> dict:
    """The environment of every worker: the same thread count for every library's pool."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                 "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
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
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def worker(path, batch_sizes, steps, warmup, threads):
    import numpy as np
    from digits_cnn import LEARNING_RATE, batch_order, initial_weights, load_digits_split

    start = time.perf_counter()
    module = load_step_file(path)
    result = {"file": Path(path).name, "import_seconds": time.perf_counter() - start, "batches": {}}
    x_train, y_train, _, _ = load_digits_split()
    for batch_size in batch_sizes:
        chosen = batch_order(len(x_train), 0)[:batch_size]      # the first batch of epoch 0
        x, y = np.ascontiguousarray(x_train[chosen]), np.ascontiguousarray(y_train[chosen])
        start = time.perf_counter()
        step = module.setup(x, y, initial_weights(), LEARNING_RATE, threads)
        setup_seconds = time.perf_counter() - start
        timing = measure(step, steps, warmup)
        timing["setup_seconds"] = setup_seconds
        timing["info"] = getattr(step, "info", {})
        result["batches"][str(batch_size)] = timing
    return result


def matmul_peak(size, repeats):
    """float32 GFLOP/s of a size x size matrix product in NumPy: the machine's practical limit."""
    import numpy as np
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    c = np.empty_like(a)
    np.matmul(a, b, out=c)                   # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - start)
    flops = 2 * size ** 3
    return {"size": size, "times": times, "gflops_best": flops / min(times) / 1e9,
            "gflops_median": flops / sorted(times)[len(times) // 2] / 1e9}


# ---------------------------------------------------------------------------- the machine

def machine(threads):
    def first_line(path, key):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return None

    mem_kb = first_line("/proc/meminfo", "MemTotal")
    os_name = None
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name if name != "tensorflow" else "tensorflow-cpu")
        except metadata.PackageNotFoundError:
            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                versions[name] = None
    try:
        gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        gcc = None
    return {
        "cpu": first_line("/proc/cpuinfo", "model name") or platform.processor(),
        "logical_cpus": os.cpu_count(),
        "cpus_available": default_threads(),
        "threads_used": threads,
        "memory_gib": round(int(mem_kb.split()[0]) / 2 ** 20, 1) if mem_kb else None,
        "os": f"{os_name or platform.system()} (kernel {platform.release()})",
        "python": platform.python_version(),
        "gcc": gcc,
        "versions": versions,
    }


# ---------------------------------------------------------------------------- the driver

def _run_worker(args, threads, timeout):
    env = worker_environment(threads)
    with tempfile.TemporaryDirectory(prefix="backprop_speed_") as cache:
        env["TORCHINDUCTOR_CACHE_DIR"] = cache    # torch.compile starts without an on-disk cache
        out = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args],
                             env=env, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"worker {args} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(step_files, quick=False, threads=None, batch_sizes=BATCH_SIZES, timeout=600, log=print):
    """Measure the peak, then every step file in its own process; returns a JSON-able dict."""
    settings = QUICK if quick else FULL
    threads = threads or default_threads()
    results = {"quick": quick, "settings": settings, "batch_sizes": list(batch_sizes),
               "machine": machine(threads), "frameworks": {}}
    start = time.perf_counter()
    results["peak"] = _run_worker(["--peak", str(settings["peak_size"]), str(settings["peak_repeats"])],
                                  threads, timeout)
    log(f"matmul peak measured ({time.perf_counter() - start:.0f} s)")
    for path in step_files:
        start = time.perf_counter()
        results["frameworks"][Path(path).stem] = _run_worker(
            ["--worker", str(path), "--batch-sizes", ",".join(map(str, batch_sizes)),
             "--steps", str(settings["steps"]), "--warmup", str(settings["warmup"]),
             "--threads", str(threads)], threads, timeout)
        log(f"{Path(path).stem} done ({time.perf_counter() - start:.0f} s)")
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("files", nargs="*", help="step files, in the order to report them")
    p.add_argument("--quick", action="store_true", help="fewer steps and a smaller peak measurement")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", help="write the results here as JSON (default: stdout)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--peak", nargs=2, type=int, help=argparse.SUPPRESS)
    p.add_argument("--batch-sizes", default=",".join(map(str, BATCH_SIZES)))
    p.add_argument("--steps", type=int, default=FULL["steps"])
    p.add_argument("--warmup", type=int, default=FULL["warmup"])
    args = p.parse_args(argv)
    if args.peak:
        print(json.dumps(matmul_peak(*args.peak)))
        return
    if args.worker:
        sizes = [int(b) for b in args.batch_sizes.split(",")]
        print(json.dumps(worker(args.worker, sizes, args.steps, args.warmup,
                                args.threads or default_threads())))
        return
    results = run(args.files, quick=args.quick, threads=args.threads,
                  log=lambda msg: print(msg, file=sys.stderr))
    text = json.dumps(results, indent=1)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
