"""The numbers, the tables and the words of the speed post, made from the benchmark runner's results.

``summarise()`` turns the raw timings of ``backprop_speed.run()`` into one JSON-able *summary*:
for every contender and batch size the median step time of each repeat, and over the repeats
their median and their range (lowest and highest); the fit time = a + b * batch of every
contender; the machine's measured limits. The tables of the post (``*_table``) and every
sentence that states a time, a ratio, a ranking or "faster than" (``SENTENCES``) are made from
that summary alone, with the same rounding, so the text says only what the tables show.

The rule for "faster", "slower" and "tie" is ``compare()``: each quantity is an interval, from
the lowest to the highest value over the repeats (for a ratio of two quantities, the lowest
and highest ratios their intervals allow). Two quantities whose intervals overlap are tied; one
is lower than the other only when its highest value is below the other's lowest. A "fastest" or
"lowest" names every contender tied with the one of the lowest median (``best()``).

The fixed cost of a step is reported as measured: the step time at batch 1 (one example's work
is in it too, so it is an upper bound of the fixed cost). The fitted ``a`` of the line is shown
beside it, and where the two disagree the text goes by the measurement.
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
        "not_measured_labels": {n: labels.get(n, n) for n in results["not_measured"]},
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


def measured_fixed(summary, name):
    """The fixed cost as measured: the step time at batch 1, an interval over the repeats."""
    return summary["time"][name]["1"]


def fixed_share(summary, name, b):
    """The measured step at batch 1 as a share of the measured step at batch b (medians): the part of
    the step at batch b that is fixed cost, at most (the batch-1 step holds one example's work too)."""
    return summary["time"][name]["1"]["median"] / summary["time"][name][str(b)]["median"]


def best(intervals, highest=False):
    """The key of the lowest median (highest, if asked) and, in order, every other key whose
    interval overlaps its own: all that the tie rule allows to be called the lowest (highest)."""
    keys = list(intervals)
    pick = (max if highest else min)(keys, key=lambda k: intervals[k]["median"])
    return pick, [k for k in keys if k != pick and compare(intervals[k], intervals[pick]) == "tie"]


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


def enumeration(items):
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def batches_phrase(sizes):
    sizes = [str(b) for b in sizes]
    return ("batch " if len(sizes) == 1 else "batch sizes ") + enumeration(sizes)


def ms(seconds):
    """A time as the tables print it in milliseconds."""
    return number(seconds * 1e3)


def us(seconds):
    return number(seconds * 1e6)


def times(v):
    """A ratio as tables and text print it: '2.3×'."""
    return f"{number(v, 2)}×"


def signed_percent(x):
    """A relative miss as the fit table prints it: '+12', '−3.4' (per cent)."""
    return ("−" if x < 0 else "+") + number(100 * abs(x), 2)


def names_list(s, names):
    return enumeration(s["labels"][n] for n in names)


# ---------------------------------------------------------------------------- the tables

def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _bold(text, on):
    return f"**{text}**" if on else text


def _not_measured(s):
    return "".join(f"\n\nNot measured: {s.get('not_measured_labels', {}).get(n, n)} ({why})."
                   for n, why in s["not_measured"].items())


def leaders(s, b):
    """The fastest contender at batch b and every one tied with it."""
    fastest, tied = best({n: _time(s, n, b) for n in s["contenders"]})
    return [fastest] + tied


def step_table(s):
    """Median step time (ms) of every contender at every batch size; the fastest and those tied with
    it in bold."""
    first = {b: leaders(s, b) for b in s["sizes"]}
    rows = [[s["labels"][n]] + [_bold(ms(_time(s, n, b)["median"]), n in first[b]) for b in s["sizes"]]
            for n in s["contenders"]]
    return _table(["ms at batch"] + [str(b) for b in s["sizes"]], rows) + _not_measured(s)


def range_table(s, b):
    """The step time at batch b: median and range over the repeats (ms); the fastest and its ties in bold."""
    first = leaders(s, b)
    rows = [[_bold(s["labels"][n], n in first)] + [ms(_time(s, n, b)[k]) for k in ("median", "low", "high")]
            for n in s["contenders"]]
    return _table([f"batch {b} (ms)", "median", "low", "high"], rows)


def fixed_table(s):
    """The fixed cost as measured (the batch-1 step, ms) beside the fitted a, and the measured share."""
    rows = [[s["labels"][n], ms(measured_fixed(s, n)["median"]), ms(s["fit"][n]["a"]["median"]),
             number(100 * fixed_share(s, n, 32), 2)] for n in s["contenders"]]
    return _table(["", "batch 1, measured (ms)", "fitted a (ms)", "batch 1 ÷ batch 32 (%)"], rows)


def per_example_table(s):
    """The fitted cost per example b (µs): the fit to the medians and the range of the fits to each repeat."""
    rows = [[s["labels"][n]] + [us(s["fit"][n]["b"][k]) for k in ("median", "low", "high")]
            for n in s["contenders"]]
    return _table(["b (µs)", "fit", "low", "high"], rows)


def fit_table(s):
    """How far the line misses each median (%), and the two-point estimate at batch 32."""
    rows = [[s["labels"][n]] + [signed_percent(s["fit"][n]["residual"][str(b)]) for b in s["sizes"]]
            + [signed_percent(s["fit"][n]["two_point"]["residual"]["32"])] for n in s["contenders"]]
    return _table(["miss (%)"] + [str(b) for b in s["sizes"]] + ["two-point, 32"], rows)


def rate_table(s):
    """Achieved GFLOP/s (medians) at every batch size."""
    rows = [[s["labels"][n]] + [number(gflops(s, n, b)["median"]) for b in s["sizes"]] for n in s["contenders"]]
    return _table(["GFLOP/s"] + [str(b) for b in s["sizes"]], rows)


def peak_share_table(s):
    """Achieved rate as a share of the measured matrix-multiply rate (%)."""
    peak = s["limits"]["peak_gflops"]
    rows = [[s["labels"][n]] + [number(100 * gflops(s, n, b)["median"] / peak, 2) for b in s["sizes"]]
            for n in s["contenders"]]
    return _table(["% of matmul"] + [str(b) for b in s["sizes"]], rows)


def first_table(s, which):
    """The first step: 'cold' (first repeat, empty compiler cache) or 'warm' (median of the later repeats)."""
    rows = []
    for n in s["contenders"]:
        cells = []
        for b in s["sizes"]:
            first = s["first"][n][str(b)]
            value = first["cold"] if which == "cold" else (first["warm"] or {}).get("median")
            cells.append(duration(value) if value is not None else "–")
        rows.append([s["labels"][n]] + cells)
    return _table(["first step, batch" if which == "cold" else "later repeats, batch"] + [str(b) for b in s["sizes"]], rows)


SPEEDUPS = {"tf_function": "tf_eager", "torch_compile_model": "torch_eager", "torch_compile_step": "torch_eager"}
SPEEDUP_HEADERS = {"torch_compile_model": "compiled model", "torch_compile_step": "compiled step",
                   "tf_function": "tf.function"}


def speedup(s, compiled, b):
    """The eager step's time over the compiled one's, as an interval."""
    return ratio(_time(s, SPEEDUPS[compiled], b), _time(s, compiled, b))


def _ratio_table(title, groups, sizes):
    """One row per (ratio, batch size): the median and the range the repeats allow."""
    rows = []
    for label, at in groups:
        for i, b in enumerate(sizes):
            r = at(b)
            rows.append([label if i == 0 else "", str(b), times(r["median"]),
                         f"{number(r['low'], 2)}–{times(r['high'])}"])
    return _table([title, "batch", "median", "range"], rows)


def speedup_table(s):
    """Each compiled contender's speed-up over its framework's eager step: median and range."""
    pairs = [c for c in SPEEDUP_HEADERS if c in s["contenders"] and SPEEDUPS[c] in s["contenders"]]
    return _ratio_table("eager ÷ compiled", [(SPEEDUP_HEADERS[c], (lambda c: lambda b: speedup(s, c, b))(c))
                                             for c in pairs], s["sizes"])


def numpy_ratios(s, b):
    return {"fast_over_torch": ratio(_time(s, "numpy_fast", b), _time(s, "torch_eager", b)),
            "layers_over_fast": ratio(_time(s, "numpy_layers", b), _time(s, "numpy_fast", b))}


def numpy_table(s):
    return _ratio_table("time ratio", [("FastCNN ÷ PyTorch eager", lambda b: numpy_ratios(s, b)["fast_over_torch"]),
                                       ("layers ÷ FastCNN", lambda b: numpy_ratios(s, b)["layers_over_fast"])],
                        s["sizes"])


def traffic_bytes_per_example():
    """Bytes an unfused step moves per example: every activation and every activation gradient
    (convolution output, ReLU output, pooled map, logits) written once and read once, and the image
    read twice (forward and weight gradient); float32."""
    activations = 8 * 8 * 8 + 8 * 8 * 8 + 8 * 4 * 4 + 10
    return 4 * (2 * 2 * activations + 2 * 64)


def bounds(s):
    """The lowest cost per example (and its ties) against the arithmetic and memory-traffic bounds."""
    names = s["contenders"]
    lowest, tied = best({n: s["fit"][n]["b"] for n in names})
    b = s["fit"][lowest]["b"]["median"]
    flops = s["flops"][lowest]["1024"] - s["flops"][lowest]["1"]     # what 1023 more examples add
    arithmetic = flops / 1023 / (s["limits"]["peak_gflops"] * 1e9)
    traffic = traffic_bytes_per_example() / (s["limits"]["copy_gbs"] * 1e9)
    return {"lowest": lowest, "tied": tied, "b": b, "arithmetic": arithmetic, "traffic": traffic,
            "over_arithmetic": b / arithmetic, "over_traffic": b / traffic}


def bounds_table(s):
    bd = bounds(s)
    rows = [[f"cost per example, {s['labels'][bd['lowest']]}", us(bd["b"]), times(1)],
            ["its arithmetic at the matrix-multiply rate", us(bd["arithmetic"]), times(bd["over_arithmetic"])],
            [f"unfused traffic ({number(traffic_bytes_per_example() / 1e3)} kB) at the copy bandwidth",
             us(bd["traffic"]), times(bd["over_traffic"])]]
    return _table(["per example", "µs", "cost ÷ this"], rows)


def scale_numbers(s):
    sc = s["scale"]
    fastest = min(sc["cnn_1024"], key=sc["cnn_1024"].get)
    return {"loop": sc["loop"], "vectorised": sc["vectorised"], "cnn": sc["cnn_1024"][fastest], "cnn_name": fastest,
            "loop_over_vectorised": sc["loop"] / sc["vectorised"],
            "loop_over_cnn": sc["loop"] / sc["cnn_1024"][fastest],
            "vectorised_gflops": sc["iris_flops"] / sc["vectorised"] / 1e9,
            "best_1024": max(gflops(s, n, 1024)["median"] for n in s["contenders"])}


def scale_table(s):
    """Part 1's network, as loops and vectorised, against the CNN's quickest example at batch 1024."""
    sc, n = s["scale"], scale_numbers(s)
    rows = [[label, f"{flops:,}", us(seconds), number(flops / seconds / 1e9), times(sc["loop"] / seconds)]
            for label, flops, seconds in (("Iris 4–5–3, loops", sc["iris_flops"], n["loop"]),
                                          ("Iris 4–5–3, vectorised", sc["iris_flops"], n["vectorised"]),
                                          (f"CNN, batch 1024, {s['labels'][n['cnn_name']]}", sc["cnn_flops"],
                                           n["cnn"]))]
    return _table(["one example", "FLOPs", "µs", "GFLOP/s", "loops ÷ this"], rows)


# ---------------------------------------------------------------------------- the sentences

def _time(s, n, b):
    return s["time"][n][str(b)]


def _tied_words(s, tied, what="whose range over the repeats overlaps its own",
                plural="whose ranges over the repeats overlap its own"):
    if not tied:
        return ""
    return f", tied with {names_list(s, tied)}, {what if len(tied) == 1 else plural}"


def ranking(s, b):
    """The fastest and slowest contenders at batch b, and who is tied with them."""
    names = s["contenders"]
    fastest, tied_fast = best({n: _time(s, n, b) for n in names})
    slowest, tied_slow = best({n: _time(s, n, b) for n in names}, highest=True)
    L = s["labels"]
    text = f"At batch {b} the fastest contender is {L[fastest]} ({duration(_time(s, fastest, b)['median'])} per step)"
    text += _tied_words(s, tied_fast) or ", its whole range over the repeats below every other contender's"
    text += f"; the slowest is {L[slowest]} ({duration(_time(s, slowest, b)['median'])})"
    if tied_slow:
        text += f", tied with {names_list(s, tied_slow)}"
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
    rates = {(n, b): gflops(s, n, b) for n in s["contenders"] for b in s["sizes"]}
    top, tied = best(rates, highest=True)
    share = rates[top]["median"] / peak
    L = s["labels"]
    text = (f"The highest median rate any contender reaches is {number(rates[top]['median'])} GFLOP/s "
            f"({L[top[0]]} at batch {top[1]}), {number(100 * share, 2)} % of the matrix-multiply rate measured in "
            f"the same run")
    if tied:
        text += (f"; its range over the repeats overlaps those of "
                 f"{enumeration(f'{L[n]} at batch {b}' for n, b in tied)}, so none of them is faster than the others")
    text += "." if share < 0.5 else ": this network's products come close to the machine's limit."
    return text, {"best": list(top), "tied": [list(t) for t in tied], "share_of_peak": share}


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
    two = [abs(s["fit"][n]["two_point"]["residual"]["32"]) for n in names]
    misses_32 = [abs(s["fit"][n]["residual"]["32"]) for n in names]
    close = [n for n in names if max(abs(s["fit"][n]["residual"][str(b)]) for b in s["sizes"]) <= 0.1]
    text = (f"Fitted to all {len(s['sizes'])} batch sizes, the line misses a contender's median step time by at most "
            f"{number(100 * worst, 2)} % at any batch size, and by at most {number(100 * max(misses_32), 2)} % at "
            f"batch 32; the two-point estimate from batches 1 and 1024 alone would miss batch 32 by "
            f"{number(100 * min(two), 2)} to {number(100 * max(two), 2)} %. ")
    if len(close) == len(names):
        text += "The line is within a tenth of every median of every contender."
    elif close:
        text += (f"The line is within a tenth of every median for {names_list(s, close)}; for the others "
                 f"a fixed cost plus a constant cost per example is only a rough description.")
    else:
        text += "For no contender is the line within a tenth of every median: the model is only a rough description."
    return text, {"worst": worst, "two_point_32": [min(two), max(two)], "fit_32": max(misses_32),
                  "within_a_tenth": close}


@_sentence("overhead")
def overhead_words(s):
    """The fixed cost as measured (the batch-1 step), its share at batch 32, and where the fitted a disagrees."""
    names, L = s["contenders"], s["labels"]
    t1 = {n: measured_fixed(s, n) for n in names}
    low, tied_low = best(t1)
    high, tied_high = best(t1, highest=True)
    shares = {n: fixed_share(s, n, 32) for n in names}
    least, most = min(names, key=shares.get), max(names, key=shares.get)
    half = [n for n in names if shares[n] > 0.5]
    above = [n for n in names if s["fit"][n]["a"]["median"] > t1[n]["median"]]
    beyond = [n for n in above if compare(s["fit"][n]["a"], t1[n]) == "higher"]
    text = (f"Measured, the fixed cost (the whole step at batch 1) is lowest for {L[low]}, "
            f"{duration(t1[low]['median'])}" + (f", tied with {names_list(s, tied_low)}" if tied_low else "")
            + f", and highest for {L[high]}, {duration(t1[high]['median'])}"
            + (f", tied with {names_list(s, tied_high)}" if tied_high else "")
            + f". At batch 32 the batch-1 step is {number(100 * shares[least], 2)} % ({L[least]}) to "
            f"{number(100 * shares[most], 2)} % ({L[most]}) of the measured step")
    text += f", more than half for {names_list(s, half)}. " if half else ", less than half for every contender. "
    if above:
        text += (f"The fitted fixed cost $a$ is larger than the whole measured step at batch 1 for {len(above)} of the "
                 f"{len(names)} contenders ({names_list(s, above)}")
        text += (f"; beyond the spread of the repeats for {names_list(s, beyond)})" if beyond else
                 "; within the spread of the repeats for all of them)")
        text += (": the line describes how the time grows with the batch, not what a step at batch 1 costs, "
                 "and the text goes by the measurement.")
    else:
        text += "For every contender the fitted fixed cost $a$ is no larger than the measured step at batch 1."
    return text, {"lowest": [low] + tied_low, "highest": [high] + tied_high, "share_32": shares,
                  "more_than_half_32": half, "fit_above_measured": above, "fit_above_beyond_spread": beyond}


@_sentence("bounds")
def bounds_words(s):
    """The cheapest cost per example against the arithmetic and the memory traffic it needs."""
    L = s["labels"]
    bd = bounds(s)
    text = (f"The lowest fitted cost per example is {duration(bd['b'])} ({L[bd['lowest']]}"
            + (f"; tied with {names_list(s, bd['tied'])}, whose "
               f"{'range overlaps' if len(bd['tied']) == 1 else 'ranges overlap'} its own" if bd["tied"] else "")
            + f"). It is {times(bd['over_arithmetic'])} what an example's arithmetic takes at the measured "
            f"matrix-multiply rate ({duration(bd['arithmetic'])}) and {times(bd['over_traffic'])} what its unfused "
            f"memory traffic takes at the measured copy bandwidth ({duration(bd['traffic'])}). ")
    if bd["over_traffic"] <= 2:
        text += ("Memory traffic is within a factor of two of that cost: at the bandwidth measured here, moving the "
                 "arrays is most of the work that grows with the batch.")
    else:
        text += ("Neither bound explains it: most of the cost that grows with the batch is neither arithmetic at "
                 "full speed nor the minimal memory traffic, but the work of many small, unfused operations.")
    return text, {"lowest": [bd["lowest"]] + bd["tied"], "over_arithmetic": bd["over_arithmetic"],
                  "over_traffic": bd["over_traffic"]}


COMPILED = ("torch_compile_model", "torch_compile_step", "tf_function", "keras_train_on_batch", "jax_jit")


@_sentence("first_steps")
def first_step_words(s):
    names = s["contenders"]
    torch_names = [n for n in ("torch_compile_model", "torch_compile_step") if n in names]
    others = [n for n in ("jax_jit", "tf_function", "keras_train_on_batch") if n in names]
    cold = [s["first"][n][str(b)]["cold"] for n in torch_names for b in s["sizes"]]
    text = (f"With an empty compiler cache, `torch.compile`'s first step takes {duration(min(cold))} to "
            f"{duration(max(cold))}")
    warm = [s["first"][n][str(b)]["warm"] for n in torch_names for b in s["sizes"]]
    if warm and all(warm):
        text += (f"; with the cache the repeat before left behind, {duration(min(w['median'] for w in warm))} to "
                 f"{duration(max(w['median'] for w in warm))} (medians of the later repeats)")
    other = [s["first"][n][str(b)]["cold"] for n in others for b in s["sizes"]]
    text += (f". The first step of {names_list(s, others)} takes {duration(min(other))} to "
             f"{duration(max(other))}.")
    return text, {"torch_cold": [min(cold), max(cold)], "others": [min(other), max(other)]}


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
            how = f" ({times(min(r))} to {times(max(r))} as fast)" if v != "tie" and len(r) > 1 else \
                  (f" ({times(r[0])} as fast)" if v != "tie" else "")
            parts.append(f"{words[v]} {L[b]} at {batches_phrase(sizes)}{how}")
    return f"{L[a]} is " + "; ".join(parts) + ".", verdict


for _a, _b in SPEEDUPS.items():
    SENTENCES[f"versus_{_a}"] = (lambda a, b: lambda s: versus(s, a, b))(_a, _b)


@_sentence("torch_fixed")
def torch_fixed_words(s):
    L = s["labels"]
    t1 = {n: measured_fixed(s, n) for n in ("torch_eager", "torch_compile_model", "torch_compile_step")}
    verdict = {n: compare(t1["torch_compile_step"], t1[n]) for n in ("torch_eager", "torch_compile_model")}
    words = {"lower": "lower than", "tie": "tied with", "higher": "higher than"}
    parts = [f"{words[verdict[n]]} {L[n]}'s ({duration(t1[n]['median'])})" for n in verdict]
    text = (f"The measured fixed cost (step at batch 1) of {L['torch_compile_step']}, "
            f"{duration(t1['torch_compile_step']['median'])}, is " + " and ".join(parts) + ".")
    return text, verdict


@_sentence("cntk")
def cntk_words(s):
    names = s["contenders"]
    if "cntk_train_minibatch" not in names:
        return f"CNTK was not measured: {s['not_measured'].get('cntk_train_minibatch', 'no step file')}.", {}
    t1 = {n: measured_fixed(s, n) for n in names}
    mine = t1["cntk_train_minibatch"]
    lower = [n for n in names if n != "cntk_train_minibatch" and compare(t1[n], mine) == "lower"]
    tied = [n for n in names if n != "cntk_train_minibatch" and compare(t1[n], mine) == "tie"]
    text = f"CNTK's step at batch 1, its measured fixed cost, takes {duration(mine['median'])}"
    if not lower:
        text += ", the lowest of all the contenders" + (f" together with {names_list(s, tied)}, whose ranges "
                                                        f"overlap its own" if tied else "")
    else:
        text += (f"; {names_list(s, lower)} {'has' if len(lower) == 1 else 'have'} a lower one, "
                 f"{'its' if len(lower) == 1 else 'their'} whole range below CNTK's")
        if tied:
            text += f", and {names_list(s, tied)} {'is' if len(tied) == 1 else 'are'} tied with it"
    return text + ".", {"lower": lower, "tied": tied}


@_sentence("numpy")
def numpy_words(s):
    L = s["labels"]
    r = numpy_ratios(s, 256)["fast_over_torch"]
    met = r["high"] < 2
    text = (f"At batch 256 a step of {L['numpy_fast']} takes {times(r['median'])} as long as a step of "
            f"{L['torch_eager']} (from {times(r['low'])} to {times(r['high'])} as the repeats' ranges allow): "
            + ("within the factor of two we set ourselves as the target, even at the end of the range least in "
               "its favour." if met else "the target we set ourselves, within a factor of two, is not met over the "
                                         "whole range."))
    layers = {b: numpy_ratios(s, b)["layers_over_fast"] for b in s["sizes"]}
    slower = [b for b in s["sizes"] if layers[b]["low"] > 1]
    m = [layers[b]["median"] for b in s["sizes"]]
    text += (f" The layer-by-layer reference takes {times(min(m))} to {times(max(m))} as long as `FastCNN` "
             f"(medians), and is slower beyond the spread of the repeats at {batches_phrase(slower)}." if slower else
             f" The layer-by-layer reference takes {times(min(m))} to {times(max(m))} as long as `FastCNN` "
             f"(medians), but at no batch size beyond the spread of the repeats.")
    return text, {"fast_over_torch_256": r, "target_met": met, "layers_slower_at": slower}


@_sentence("scale")
def scale_words(s):
    n, sc = scale_numbers(s), s["scale"]
    text = (f"On Iris the vectorised gradients are {times(n['loop_over_vectorised'])} as fast as the loops, per "
            f"example. The loops spend {times(n['loop_over_cnn'])} as long on one example of a network with "
            f"{sc['iris_parameters']} parameters as {s['labels'][n['cnn_name']]} spends on one example of the CNN "
            f"at batch 1024, which has {sc['cnn_parameters']:,} parameters and {sc['cnn_flops']:,} FLOPs per example "
            f"against Iris's {sc['iris_flops']:,}. From vectorised Iris ({number(n['vectorised_gflops'])} GFLOP/s) to "
            f"the highest median rate on the CNN at batch 1024 ({number(n['best_1024'])} GFLOP/s), everything after "
            f"vectorising gained ")
    after = n["best_1024"] / n["vectorised_gflops"]
    text += ("less than vectorising did: it is the largest step of all." if after < n["loop_over_vectorised"] else
             "more than vectorising did: vectorising is a large step, but not the largest.")
    return text, {"loop_over_vectorised": n["loop_over_vectorised"], "loop_over_cnn_1024": n["loop_over_cnn"],
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
    """Does compiling the whole step lower the measured fixed cost, against the same framework's eager step?"""
    L = s["labels"]
    pairs = [(c, e) for c, e in (("tf_function", "tf_eager"), ("torch_compile_step", "torch_eager"))
             if c in s["contenders"] and e in s["contenders"]]
    verdict = {c: compare(measured_fixed(s, c), measured_fixed(s, e)) for c, e in pairs}
    words = {"lower": "lower", "tie": "no different, within the spread of the repeats,", "higher": "higher"}
    parts = [f"{words[verdict[c]]} for {L[c]} ({duration(measured_fixed(s, c)['median'])}, against "
             f"{duration(measured_fixed(s, e)['median'])} eager)" for c, e in pairs]
    return "Compiling the whole step makes the step at batch 1 " + "; ".join(parts) + ".", verdict


INDUCTOR_OPS = {"convolution": "the convolution", "convolution_backward": "the convolution's gradients",
                "mm": "matrix products", "addmm": "matrix products", "bmm": "matrix products"}


INDUCTOR_GENERATED = {"max_pool2d": "the pooling and its gradient", "relu": "ReLU",
                      "threshold_backward": "ReLU's gradient", "log_softmax": "the softmax with the loss",
                      "nll_loss": "the softmax with the loss", "mul_sub": "the SGD update"}


def inductor_words(extern, generated):
    """What Inductor did with the compiled step: `extern`, the ATen kernels its generated code calls;
    `generated`, the names of the C++ kernels it generated (cpp_fused_<ops>_<n>)."""
    kept = [INDUCTOR_OPS.get(op, f"`{op}`") for op in extern]
    kept = sorted(set(kept), key=lambda w: (list(INDUCTOR_OPS.values()) + [w]).index(w))
    ops = [words for part, words in INDUCTOR_GENERATED.items() if any(part in kernel for kernel in generated)]
    return (f"In the compiled step, Inductor calls PyTorch's own kernels for {enumeration(kept)}, and generates C++ "
            f"loops of its own ({len(generated)} kernels) for {enumeration(list(dict.fromkeys(ops)))}.")


@_sentence("tldr")
def tldr_words(s):
    L, names = s["labels"], s["contenders"]
    fastest = {b: ranking(s, b)[1] for b in (32, 1024)}
    best_share = limit_words(s)[1]["share_of_peak"]
    t1 = {n: measured_fixed(s, n)["median"] for n in names}
    half = overhead_words(s)[1]["more_than_half_32"]
    compiled = compiling_words(s)[1]
    frameworks = ["NumPy", "PyTorch", "TensorFlow", "Keras", "JAX", "CNTK"]
    if "cntk_train_minibatch" not in names:
        frameworks.remove("CNTK")

    def leaders_words(b):
        f = fastest[b]
        who = [L[f["fastest"]]] + [L[n] for n in f["tied_with_fastest"]]
        return who[0] if len(who) == 1 else f"{enumeration(who)}, tied"

    fraction = next((words for limit, words in ((0.1, "a tenth"), (0.5, "half"), (1.01, "all"))
                     if best_share < limit), "all")
    text = (f"**tl;dr**: one training step of the series' small convolutional network in "
            f"{enumeration(frameworks)}, {len(names)} contenders in all, each in its own process, timed at batch "
            f"sizes {enumeration(str(b) for b in s['sizes'])} and repeated {s['repeats']} times in shuffled order, "
            f"on {machine_phrase(s['machine'])}. The ranking is for this machine and this run. The fastest at "
            f"batch 32: {leaders_words(32)}; at batch 1024: {leaders_words(1024)}. No contender reaches {fraction} of "
            f"the matrix-multiply rate measured on the same machine. A step at batch 1, almost all of it the fixed "
            f"cost every step pays, takes {duration(min(t1.values()))} to {duration(max(t1.values()))} depending on "
            f"the contender; at batch 32 it is still more than half of the step for {len(half)} of the "
            f"{len(names)} contenders")
    lowered = [L[c] for c, v in compiled.items() if v == "lower"]
    text += (f", and compiling the whole step lowers it for {enumeration(lowered)}." if lowered else
             ", and compiling the whole step does not lower it beyond the spread of the repeats.")
    return text, {"fastest_32": fastest[32], "fastest_1024": fastest[1024], "compiled_lower": lowered}


def sentence(summary, key):
    """The text of sentence `key` made from `summary`."""
    return SENTENCES[key](summary)[0]
