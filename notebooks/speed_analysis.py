"""The numbers and the words of the speed post, made from the benchmark runner's results.

``summarise()`` turns the raw timings of ``backprop_speed.run()`` into one JSON-able *summary*:
for every contender and batch size the median step time of each repeat, and over the repeats
their median and their range (lowest and highest); the fit time = a + b * batch of every
contender; the machine's measured limits. Every sentence of the post that states a time, a
ratio, a ranking or "faster than" is made by one of the functions in ``SENTENCES`` from that
summary alone, so the text cannot contradict the tables printed from the same summary. The
tests make every sentence again from the summary the post printed and compare.

The rule for "faster", "slower" and "tie" is ``compare()``: each quantity is an interval, from
the lowest to the highest value over the repeats (for a ratio of two quantities, the lowest
and highest ratios their intervals allow), and two quantities whose intervals overlap are
called tied. With three repeats the range of the repeat medians covers the true median of the
repeats' distribution with probability 1 - 2 / 2**3 = 75 %; more repeats make it wider and
surer. It is a deliberately cautious rule: it calls a difference real only when every repeat
agrees.
"""
import math

import numpy as np


# ---------------------------------------------------------------------------- intervals and the rule

def interval(values):
    """Median, lowest and highest of `values` (one per repeat)."""
    values = [float(v) for v in values]
    return {"median": float(np.median(values)), "low": min(values), "high": max(values)}


def fitted(value, per_repeat):
    """A fitted parameter as an interval: the fit to the medians, and the range of the fits to each
    repeat (widened to contain the former, which need not lie between the latter)."""
    return {"median": value, "low": min(per_repeat + [value]), "high": max(per_repeat + [value]),
            "per_repeat": per_repeat}


def ratio(a, b):
    """The interval of a / b for two positive intervals: the most and least the ranges allow."""
    return {"median": a["median"] / b["median"], "low": a["low"] / b["high"], "high": a["high"] / b["low"]}


def scaled(a, factor):
    return {k: a[k] * factor for k in ("median", "low", "high")}


def compare(a, b):
    """'lower' if a's interval lies wholly below b's, 'higher' if wholly above, else 'tie'."""
    if a["high"] < b["low"]:
        return "lower"
    if a["low"] > b["high"]:
        return "higher"
    return "tie"


# ---------------------------------------------------------------------------- the fit

def fit_fixed_plus_per_example(batch_sizes, times):
    """a and b of time = a + b * batch, by least squares on the *relative* error.

    Times span three decades from batch 1 to batch 1024, so ordinary least squares would fit the
    large batches and ignore the small ones; minimising sum(((a + b n - t) / t) ** 2), i.e.
    weights 1 / t**2, makes a 10 % miss count the same at every batch size.
    """
    n, t = np.asarray(batch_sizes, float), np.asarray(times, float)
    design = np.stack([np.ones_like(n), n], axis=1) / t[:, None]
    (a, b), *_ = np.linalg.lstsq(design, np.ones_like(t), rcond=None)
    return float(a), float(b)


def two_point_fit(batch_sizes, times):
    """The estimate the post used before: a = the time at the smallest batch (1), b the slope from the
    smallest to the largest (1024), the batch sizes in between left out."""
    t = dict(zip(batch_sizes, times))
    small, large = min(t), max(t)
    return t[small], (t[large] - t[small]) / (large - small)


# ---------------------------------------------------------------------------- the summary

def summarise(results, labels, flops_per_step):
    """One JSON-able summary of a run. `flops_per_step(name, batch)` counts a contender's work."""
    sizes = results["batch_sizes"]
    repeats = results["repeats"]
    names = [n for n in labels if n in results["contenders"]]
    time, first, loss, fit = {}, {}, {}, {}
    for name in names:
        runs = [r["frameworks"][name]["batches"] for r in repeats]
        per_repeat = {b: [float(np.median(run[str(b)]["times"])) for run in runs] for b in sizes}
        time[name] = {str(b): dict(interval(per_repeat[b]), per_repeat=per_repeat[b]) for b in sizes}
        first[name] = {str(b): {"cold": runs[0][str(b)]["first_step"],
                                "warm": interval([run[str(b)]["first_step"] for run in runs[1:]])
                                if len(runs) > 1 else None} for b in sizes}
        loss[name] = {str(b): {"first": [run[str(b)]["first_loss"] for run in runs],
                               "last": [run[str(b)]["last_loss"] for run in runs]} for b in sizes}
        fits = [fit_fixed_plus_per_example(sizes, [per_repeat[b][r] for b in sizes]) for r in range(len(runs))]
        medians = [time[name][str(b)]["median"] for b in sizes]
        a, b_ = fit_fixed_plus_per_example(sizes, medians)
        a2, b2 = two_point_fit(sizes, medians)
        fit[name] = {"a": fitted(a, [f[0] for f in fits]), "b": fitted(b_, [f[1] for f in fits]),
                     "residual": {str(n): (a + b_ * n) / t - 1 for n, t in zip(sizes, medians)},
                     "two_point": {"a": a2, "b": b2,
                                   "residual": {str(n): (a2 + b2 * n) / t - 1 for n, t in zip(sizes, medians)}}}
    limits = [r["limits"] for r in repeats]
    return {
        "labels": {n: labels[n] for n in names},
        "contenders": names,
        "not_measured": {n: why for n, why in results["not_measured"].items()},
        "sizes": sizes,
        "repeats": len(repeats),
        "steps": results["settings"]["steps"],
        "orders": [r["order"] for r in repeats],
        "time": time,
        "first": first,
        "loss": loss,
        "fit": fit,
        "flops": {n: {str(b): flops_per_step(n, b) for b in sizes} for n in names},
        "machine": results["machine"],
        "limits": {"peak_gflops": max(l["gflops_best"] for l in limits),
                   "peak_size": limits[0]["size"],
                   "copy_gbs": max(l["stream"]["copy_gbs"] for l in limits),
                   "add_gbs": max(l["stream"]["add_gbs"] for l in limits),
                   "stream_mib": limits[0]["stream"]["array_mib"]},
    }


def gflops(summary, name, b):
    """Achieved GFLOP/s, as an interval over the repeats (fewest FLOPs per second at the slowest)."""
    t = summary["time"][name][str(b)]
    f = summary["flops"][name][str(b)] / 1e9
    return {"median": f / t["median"], "low": f / t["high"], "high": f / t["low"]}


def per_example(summary, name, b):
    return scaled(summary["time"][name][str(b)], 1 / b)


def fixed_share(summary, name, b):
    """a / (a + b n): the share of the fitted step time at batch n that does not grow with it."""
    f = summary["fit"][name]
    return f["a"]["median"] / (f["a"]["median"] + f["b"]["median"] * b)


# ---------------------------------------------------------------------------- formatting

def number(v, digits=3):
    """`v` to `digits` significant digits, without exponent: 0.000812 -> '0.000812', 123.4 -> '123'."""
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(v))))
    return f"{v:,.{decimals}f}"


def duration(seconds):
    if seconds < 1e-3:
        return f"{number(seconds * 1e6)} µs"
    if seconds < 1:
        return f"{number(seconds * 1e3)} ms"
    return f"{number(seconds)} s"


def span(iv, unit=1.0, digits=3):
    """'1.23 (1.20–1.31)': the median and the range of an interval."""
    m, lo, hi = (number(iv[k] * unit, digits) for k in ("median", "low", "high"))
    return m if lo == hi else f"{m} ({lo}–{hi})"


def times_(iv):
    """A ratio interval in words: '2.3× (2.1–2.5×)'."""
    m, lo, hi = (number(iv[k], 2) for k in ("median", "low", "high"))
    return f"{m}×" if lo == hi else f"{m}× ({lo}–{hi}×)"


def enumeration(items):
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def batches_phrase(sizes):
    sizes = [str(b) for b in sizes]
    return ("batch " if len(sizes) == 1 else "batch sizes ") + enumeration(sizes)


# ---------------------------------------------------------------------------- the sentences

def _time(s, n, b):
    return s["time"][n][str(b)]


def ranking(s, b):
    """The fastest and slowest contenders at batch b, and who is tied with them."""
    names = s["contenders"]
    fastest = min(names, key=lambda n: _time(s, n, b)["median"])
    slowest = max(names, key=lambda n: _time(s, n, b)["median"])
    tied_fast = [n for n in names if n != fastest and compare(_time(s, n, b), _time(s, fastest, b)) == "tie"]
    tied_slow = [n for n in names if n != slowest and compare(_time(s, n, b), _time(s, slowest, b)) == "tie"]
    L = s["labels"]
    text = f"At batch {b} the fastest contender is {L[fastest]} ({duration(_time(s, fastest, b)['median'])} per step)"
    if tied_fast:
        text += (f", tied with {enumeration(L[n] for n in tied_fast)}, whose range{'s' if len(tied_fast) > 1 else ''}"
                 f" over the repeats overlap{'' if len(tied_fast) > 1 else 's'} its own")
    else:
        text += ", faster than every other contender in every repeat"
    text += f"; the slowest is {L[slowest]} ({duration(_time(s, slowest, b)['median'])})"
    if tied_slow:
        text += f", tied with {enumeration(L[n] for n in tied_slow)}"
    return text + ".", {"fastest": fastest, "tied_with_fastest": tied_fast,
                        "slowest": slowest, "tied_with_slowest": tied_slow}


def _sentence(key):
    def register(f):
        SENTENCES[key] = f
        return f
    return register


SENTENCES = {}


for _b in (1, 32, 256, 1024):
    SENTENCES[f"ranking_{_b}"] = (lambda b: lambda s: ranking(s, b))(_b)


@_sentence("limit")
def limit_words(s):
    peak = s["limits"]["peak_gflops"]
    best = max(((n, b) for n in s["contenders"] for b in s["sizes"]), key=lambda nb: gflops(s, *nb)["median"])
    g = gflops(s, *best)
    share = g["median"] / peak
    text = (f"The highest rate any contender reaches is {number(g['median'])} GFLOP/s ({s['labels'][best[0]]} at "
            f"batch {best[1]}), {number(100 * share, 2)} % of the matrix-multiply rate measured in the same run")
    text += "." if share < 0.5 else ": this network's products come close to the machine's limit."
    return text, {"best": list(best), "share_of_peak": share}


@_sentence("per_example")
def per_example_words(s):
    """Does a step at batch 1024 cost less per example than one at batch 32?"""
    verdict = {n: compare(per_example(s, n, 1024), per_example(s, n, 32)) for n in s["contenders"]}
    L = s["labels"]
    groups = {v: [L[n] for n in s["contenders"] if verdict[n] == v] for v in ("lower", "tie", "higher")}
    parts = []
    if groups["lower"]:
        parts.append(f"cheaper per example at batch 1024 than at batch 32 for {enumeration(groups['lower'])}")
    if groups["tie"]:
        parts.append(f"about the same (the ranges overlap) for {enumeration(groups['tie'])}")
    if groups["higher"]:
        parts.append(f"dearer per example at batch 1024 for {enumeration(groups['higher'])}")
    return "A step is " + "; ".join(parts) + ".", verdict


@_sentence("fit")
def fit_words(s):
    names = s["contenders"]
    worst = max(abs(s["fit"][n]["residual"][str(b)]) for n in names for b in s["sizes"])
    worst_at = {str(b): max(abs(s["fit"][n]["residual"][str(b)]) for n in names) for b in s["sizes"]}
    two = [abs(s["fit"][n]["two_point"]["residual"]["32"]) for n in names]
    misses_32 = [abs(s["fit"][n]["residual"]["32"]) for n in names]
    close = [n for n in names if max(abs(s["fit"][n]["residual"][str(b)]) for b in s["sizes"]) <= 0.1]
    L = s["labels"]
    text = (f"Fitted to all {len(s['sizes'])} batch sizes, the line misses a contender's median step time by at most "
            f"{number(100 * worst, 2)} % at any batch size, and by at most {number(100 * max(misses_32), 2)} % at batch 32; "
            f"the two-point estimate from batches 1 and 1024 alone would miss batch 32 by "
            f"{number(100 * min(two), 2)} to {number(100 * max(two), 2)} %. ")
    if len(close) == len(names):
        text += "The line is within 10 % of every median of every contender."
    elif close:
        text += (f"The line is within 10 % of every median for {enumeration(L[n] for n in close)}; for the others "
                 f"a fixed cost plus a constant cost per example is only a rough description.")
    else:
        text += "For no contender is the line within 10 % of every median: the model is only a rough description."
    return text, {"worst": worst, "worst_at": worst_at, "two_point_32": [min(two), max(two)],
                  "fit_32": max(misses_32), "within_10_percent": close}


@_sentence("overhead")
def overhead_words(s):
    names, L = s["contenders"], s["labels"]
    a = {n: s["fit"][n]["a"] for n in names}
    low, high = min(names, key=lambda n: a[n]["median"]), max(names, key=lambda n: a[n]["median"])
    shares = {n: fixed_share(s, n, 32) for n in names}
    least, most = min(names, key=shares.get), max(names, key=shares.get)
    half = [n for n in names if shares[n] > 0.5]
    text = (f"The fixed cost ranges from {duration(a[low]['median'])} per step ({L[low]}) to "
            f"{duration(a[high]['median'])} ({L[high]}), a factor of {number(a[high]['median'] / a[low]['median'], 2)}. "
            f"At batch 32 it is {number(100 * shares[least], 2)} % ({L[least]}) to "
            f"{number(100 * shares[most], 2)} % ({L[most]}) of the fitted step time")
    if half:
        text += f", and more than half of it for {enumeration(L[n] for n in half)}"
    return text + ".", {"lowest": low, "highest": high, "share_32": shares, "more_than_half_32": half}


def traffic_bytes_per_example():
    """Bytes an unfused step moves per example: every activation and every activation gradient
    (convolution output, ReLU output, pooled map, logits) written once and read once, and the image
    read twice (forward and weight gradient); float32."""
    activations = 8 * 8 * 8 + 8 * 8 * 8 + 8 * 4 * 4 + 10
    return 4 * (2 * 2 * activations + 2 * 64)


@_sentence("bounds")
def bounds_words(s):
    """The cheapest cost per example against the arithmetic and the memory traffic it needs."""
    names, L = s["contenders"], s["labels"]
    best = min(names, key=lambda n: s["fit"][n]["b"]["median"])
    b = s["fit"][best]["b"]["median"]
    flops = s["flops"][best]["1024"] - s["flops"][best]["1"]     # what 1023 more examples add
    arithmetic = flops / 1023 / (s["limits"]["peak_gflops"] * 1e9)
    traffic = traffic_bytes_per_example() / (s["limits"]["copy_gbs"] * 1e9)
    text = (f"The lowest cost per example, {duration(b)} ({L[best]}), is {number(b / arithmetic, 2)} times what an "
            f"example's arithmetic takes at the measured matrix-multiply rate ({duration(arithmetic)}) and "
            f"{number(b / traffic, 2)} times what its unfused memory traffic, "
            f"{number(traffic_bytes_per_example() / 1e3, 3)} kB, takes at the measured copy bandwidth "
            f"({duration(traffic)}). ")
    if b / traffic <= 2:
        text += ("Memory traffic is within a factor of two of that cost: at the bandwidth measured here, moving the "
                 "arrays is most of the work that grows with the batch.")
    else:
        text += ("Neither bound explains it: most of the cost that grows with the batch is neither arithmetic at "
                 "full speed nor the minimal memory traffic, but the work of many small, unfused operations.")
    return text, {"best": best, "over_arithmetic": b / arithmetic, "over_traffic": b / traffic}


COMPILED = ("torch_compile_model", "torch_compile_step", "tf_function", "keras_train_on_batch", "jax_jit")


@_sentence("first_steps")
def first_step_words(s):
    names, L = s["contenders"], s["labels"]
    torch_names = [n for n in ("torch_compile_model", "torch_compile_step") if n in names]
    others = [n for n in ("jax_jit", "tf_function", "keras_train_on_batch") if n in names]
    cold = [s["first"][n][str(b)]["cold"] for n in torch_names for b in s["sizes"]]
    text = (f"With an empty compiler cache, `torch.compile`'s first step takes {duration(min(cold))} to "
            f"{duration(max(cold))}")
    warm = [s["first"][n][str(b)]["warm"] for n in torch_names for b in s["sizes"]]
    if warm and all(warm):
        text += (f"; with the cache the repeat before left behind, {duration(min(w['low'] for w in warm))} to "
                 f"{duration(max(w['high'] for w in warm))}")
    other = [s["first"][n][str(b)]["cold"] for n in others for b in s["sizes"]]
    text += (f". The first step of {enumeration(L[n] for n in others)} takes {duration(min(other))} to "
             f"{duration(max(other))}")
    compiled = [n for n in COMPILED if n in names]
    factor = min(s["first"][n][str(b)]["cold"] / _time(s, n, b)["median"] for n in compiled for b in s["sizes"])
    text += f", and every compiled contender's first step is at least {number(factor, 2)} times its median step."
    return text, {"torch_cold": [min(cold), max(cold)], "others": [min(other), max(other)], "min_factor": factor}


SPEEDUPS = {"tf_function": "tf_eager", "torch_compile_model": "torch_eager", "torch_compile_step": "torch_eager"}


def versus(s, a, b):
    """How contender a's step time compares with b's at every batch size, grouped."""
    L = s["labels"]
    verdict = {str(n): compare(_time(s, a, n), _time(s, b, n)) for n in s["sizes"]}
    words = {"lower": "faster than", "tie": "tied with", "higher": "slower than"}
    parts = []
    for v in ("lower", "tie", "higher"):
        sizes = [n for n in s["sizes"] if verdict[str(n)] == v]
        if sizes:
            r = [ratio(_time(s, b, n), _time(s, a, n))["median"] for n in sizes]
            how = f" ({number(min(r), 2)}× to {number(max(r), 2)}× as fast)" if v != "tie" and len(r) > 1 else \
                  (f" ({number(r[0], 2)}× as fast)" if v != "tie" else "")
            parts.append(f"{words[v]} {L[b]} at {batches_phrase(sizes)}{how}")
    return f"{L[a]} is " + "; ".join(parts) + ".", verdict


for _a, _b in SPEEDUPS.items():
    SENTENCES[f"versus_{_a}"] = (lambda a, b: lambda s: versus(s, a, b))(_a, _b)


@_sentence("torch_fixed")
def torch_fixed_words(s):
    L = s["labels"]
    a = {n: s["fit"][n]["a"] for n in ("torch_eager", "torch_compile_model", "torch_compile_step")}
    verdict = {n: compare(a["torch_compile_step"], a[n]) for n in ("torch_eager", "torch_compile_model")}
    words = {"lower": "lower than", "tie": "tied with", "higher": "higher than"}
    parts = [f"{words[verdict[n]]} {L[n]}'s ({duration(a[n]['median'])})" for n in verdict]
    text = (f"The fixed cost of {L['torch_compile_step']}, {duration(a['torch_compile_step']['median'])} per step, is "
            + " and ".join(parts) + ".")
    return text, verdict


@_sentence("cntk")
def cntk_words(s):
    L, names = s["labels"], s["contenders"]
    if "cntk_train_minibatch" not in names:
        return f"CNTK was not measured: {s['not_measured'].get('cntk_train_minibatch', 'no step file')}.", {}
    a = {n: s["fit"][n]["a"] for n in names}
    mine = a["cntk_train_minibatch"]
    lower = [n for n in names if n != "cntk_train_minibatch" and compare(a[n], mine) == "lower"]
    tied = [n for n in names if n != "cntk_train_minibatch" and compare(a[n], mine) == "tie"]
    text = f"CNTK's fixed cost is {duration(mine['median'])} per step"
    if not lower:
        text += ", the lowest of all the contenders" + (f" together with {enumeration(L[n] for n in tied)}"
                                                        if tied else "")
    else:
        text += (f"; only {enumeration(L[n] for n in lower)} "
                 f"{'has' if len(lower) == 1 else 'have'} a lower one in every repeat")
        if tied:
            text += f", and {enumeration(L[n] for n in tied)} {'is' if len(tied) == 1 else 'are'} tied with it"
    return text + ".", {"lower": lower, "tied": tied}


@_sentence("numpy")
def numpy_words(s):
    L = s["labels"]
    r = ratio(_time(s, "numpy_fast", 256), _time(s, "torch_eager", 256))
    met = r["high"] < 2
    text = (f"At batch 256 a step of {L['numpy_fast']} takes {times_(r)} as long as a step of {L['torch_eager']}: "
            + ("within the factor of two we set ourselves as the target, in every repeat."
               if met else "the target we set ourselves, within a factor of two, is not met in every repeat."))
    layers = {str(b): ratio(_time(s, "numpy_layers", b), _time(s, "numpy_fast", b)) for b in s["sizes"]}
    slower = [b for b in s["sizes"] if layers[str(b)]["low"] > 1]
    m = [layers[str(b)]["median"] for b in s["sizes"]]
    text += (f" The layer-by-layer reference takes {number(min(m), 2)} to {number(max(m), 2)} times as long as "
             f"`FastCNN`, and is slower in every repeat at {batches_phrase(slower)}." if slower else
             f" The layer-by-layer reference takes {number(min(m), 2)} to {number(max(m), 2)} times as long as "
             f"`FastCNN`, but not in every repeat.")
    return text, {"fast_over_torch_256": r, "target_met": met, "layers_slower_at": slower}


@_sentence("scale")
def scale_words(s):
    sc = s["scale"]
    loop_over_vector = sc["loop"] / sc["vectorised"]
    best = min(sc["cnn_1024"], key=sc["cnn_1024"].get)
    loop_over_cnn = sc["loop"] / sc["cnn_1024"][best]
    best_rate = max(gflops(s, n, 1024)["median"] for n in s["contenders"])
    after = best_rate / sc["vectorised_gflops"]
    text = (f"On Iris the vectorised gradients take {number(1 / loop_over_vector, 2)} of the time of the loops per "
            f"example ({number(loop_over_vector, 2)} times faster). The loops spend {number(loop_over_cnn, 2)} times "
            f"as long on one example of a network with {sc['iris_parameters']} parameters as "
            f"{s['labels'][best]} spends on one example of the CNN at batch 1024, which has "
            f"{number(sc['cnn_parameters'] / sc['iris_parameters'], 2)} times the parameters and "
            f"{number(sc['cnn_flops'] / sc['iris_flops'], 2)} times the arithmetic. ")
    text += (f"Vectorising is the largest step of all: its gain is larger than that of everything after it together "
             f"(the best rate on the CNN at batch 1024 is {number(after, 2)} times vectorised Iris's)."
             if loop_over_vector > after else
             f"Vectorising is a large step, but not the largest: the best rate on the CNN at batch 1024 is "
             f"{number(after, 2)} times vectorised Iris's, more than the {number(loop_over_vector, 2)} times that "
             f"vectorising gained.")
    return text, {"loop_over_vectorised": loop_over_vector, "loop_over_cnn_1024": loop_over_cnn,
                  "best_1024_over_vectorised": after}


def machine_phrase(m):
    kind = "a virtual machine" if m["virtual_machine"] else "a machine"
    isa = [name for flag, name in (("avx2", "AVX2"), ("fma", "FMA"), ("avx512f", "AVX-512")) if m["isa"].get(flag)]
    missing = [name for flag, name in (("avx2", "AVX2"), ("fma", "FMA"), ("avx512f", "AVX-512"))
               if not m["isa"].get(flag)]
    text = (f"{kind} whose CPU reports itself as “{m['cpu']}”, with {m['cpus_available']} "
            f"core{'s' if m['cpus_available'] != 1 else ''} for this build")
    if isa:
        text += f", {enumeration(isa)}"
    if missing:
        text += f" and no {enumeration(missing)}"
    return text


@_sentence("compiling")
def compiling_words(s):
    """Does compiling the whole step lower the fixed cost, against the same framework's eager step?"""
    L = s["labels"]
    pairs = [(c, e) for c, e in (("tf_function", "tf_eager"), ("torch_compile_step", "torch_eager"))
             if c in s["contenders"] and e in s["contenders"]]
    verdict = {c: compare(s["fit"][c]["a"], s["fit"][e]["a"]) for c, e in pairs}
    words = {"lower": "lower", "tie": "no different, within the spread of the repeats,", "higher": "higher"}
    parts = [f"{words[verdict[c]]} for {L[c]} ({duration(s['fit'][c]['a']['median'])}, against "
             f"{duration(s['fit'][e]['a']['median'])} eager)" for c, e in pairs]
    return "Compiling the whole step makes the fixed cost " + "; ".join(parts) + ".", verdict


@_sentence("tldr")
def tldr_words(s):
    L, names = s["labels"], s["contenders"]
    fastest = {b: ranking(s, b)[1] for b in (32, 1024)}
    best_share = limit_words(s)[1]["share_of_peak"]
    a = {n: s["fit"][n]["a"]["median"] for n in names}
    half = overhead_words(s)[1]["more_than_half_32"]
    compiled = compiling_words(s)[1]
    frameworks = ["NumPy", "PyTorch", "TensorFlow", "Keras", "JAX", "CNTK"]
    if "cntk_train_minibatch" not in names:
        frameworks.remove("CNTK")

    def leaders(b):
        f = fastest[b]
        who = [L[f["fastest"]]] + [L[n] for n in f["tied_with_fastest"]]
        return who[0] if len(who) == 1 else f"{enumeration(who)}, tied"

    fraction = next((words for limit, words in ((0.1, "a tenth"), (0.5, "half"), (1.01, "all"))
                     if best_share < limit), "all")
    text = (f"**tl;dr**: one training step of the series' small convolutional network in "
            f"{enumeration(frameworks)}, {len(names)} contenders in all, each in its own process, timed at batch "
            f"sizes {enumeration(str(b) for b in s['sizes'])} and repeated {s['repeats']} times in shuffled order, "
            f"on {machine_phrase(s['machine'])}. The ranking is for this machine and this run. The fastest at "
            f"batch 32: {leaders(32)}; at batch 1024: {leaders(1024)}. No contender reaches {fraction} of the "
            f"matrix-multiply rate measured on the same machine. A step costs a fixed amount, from "
            f"{duration(min(a.values()))} to {duration(max(a.values()))} depending on the contender, plus an "
            f"amount per example; at batch 32 the fixed cost is more than half of the step for {len(half)} of the "
            f"{len(names)} contenders")
    lowered = [L[c] for c, v in compiled.items() if v == "lower"]
    text += (f", and compiling the whole step lowers it for {enumeration(lowered)}." if lowered else
             ", and compiling the whole step does not lower it beyond the spread of the repeats.")
    return text, {"fastest_32": fastest[32], "fastest_1024": fastest[1024], "compiled_lower": lowered}


def sentence(summary, key):
    """The text of sentence `key` made from `summary`."""
    return SENTENCES[key](summary)[0]
