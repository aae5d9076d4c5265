#!/usr/bin/env python3
"""Reference values for flightdeck's canary statistics (tests/metrics_judge.rs).

Independent of the Rust code: SciPy for p-values and Clopper-Pearson
intervals, NumPy for the Hodges-Lehmann median, and R's wilcox.test (run
through Rscript) for the Mann-Whitney confidence interval, which SciPy lacks.

    python3 tests/stats/reference.py > tests/stats/reference.json

Needs: scipy, numpy, and R (Debian: r-base-core).
"""
import json
import subprocess

import numpy as np
from scipy import stats

CONFIDENCE = 0.98
rng = np.random.default_rng(20240605)


def r_wilcox(canary, baseline):
    """R's wilcox.test(canary, baseline, conf.int=TRUE) at CONFIDENCE."""
    fmt = lambda v: ",".join(repr(float(x)) for x in v)
    script = (
        f"t <- suppressWarnings(wilcox.test(c({fmt(canary)}), c({fmt(baseline)}), "
        f"conf.int=TRUE, conf.level={CONFIDENCE}));"
        "cat(sprintf('%.17g', c(t$conf.int, t$estimate, t$p.value)))"
    )
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
    lower, upper, estimate, p = map(float, out.stdout.split())
    return lower, upper, estimate, p


def shift_case(name, canary, baseline):
    canary = [float(x) for x in canary]
    baseline = [float(x) for x in baseline]
    pooled = canary + baseline
    exact = len(canary) < 50 and len(baseline) < 50 and len(set(pooled)) == len(pooled)
    method = "exact" if exact else "asymptotic"
    scipy_p = stats.mannwhitneyu(
        canary, baseline, alternative="two-sided", method=method, use_continuity=True
    ).pvalue
    lower, upper, r_estimate, r_p = r_wilcox(canary, baseline)
    hl = float(np.median(np.subtract.outer(canary, baseline)))
    return {
        "name": name,
        "canary": canary,
        "baseline": baseline,
        "method": method,
        "p_value": float(scipy_p),
        "r_p_value": r_p,
        "estimate": hl,
        "r_estimate": r_estimate,
        "lower": lower,
        "upper": upper,
    }


def rate_case(name, ce, cn, be, bn):
    x = int(round(ce))
    k = x + int(round(be))
    p0 = cn / (cn + bn)
    res = stats.binomtest(x, k, p0)
    ci = res.proportion_ci(confidence_level=CONFIDENCE, method="exact")
    to_ratio = lambda s: (s / (1 - s) if s < 1 else float("inf")) * (bn / cn)
    return {
        "name": name,
        "canary_errors": ce,
        "canary_requests": cn,
        "baseline_errors": be,
        "baseline_requests": bn,
        "p_value": float(res.pvalue),
        "share_lower": float(ci.low),
        "share_upper": float(ci.high),
        "ratio": to_ratio(x / k),
        "lower": to_ratio(ci.low),
        "upper": to_ratio(ci.high),
    }


normal = lambda mu, sd, n: rng.normal(mu, sd, n).round(6)
lognormal = lambda mu, sd, n: rng.lognormal(mu, sd, n).round(6)

shift_cases = [
    shift_case("tiny 2 vs 3", [1.1, 2.3], [0.5, 3.9, 1.7]),
    shift_case("one canary sample", [4.0], [1.0, 2.0, 3.5]),
    shift_case("small exact 8 vs 10", normal(105, 10, 8), normal(100, 10, 10)),
    shift_case("exact even middle 6 vs 6", [1, 2, 3, 10, 11, 12], [0.5, 4, 5, 6, 7, 9]),
    shift_case("exact shift 40 vs 40", normal(130, 15, 40), normal(100, 15, 40)),
    shift_case("ties small 12 vs 15", normal(20, 3, 12).round(0), normal(19, 3, 15).round(0)),
    shift_case("canary constant 12 vs 14", [5.0] * 12, normal(4, 1, 14).round(1)),
    shift_case("large lognormal 60 vs 55", lognormal(5.2, 0.4, 60), lognormal(5.0, 0.4, 55)),
    shift_case("large integer ties 80 vs 80", rng.poisson(180, 80), rng.poisson(176, 80)),
    shift_case("large no shift 70 vs 90", normal(250, 40, 70), normal(250, 40, 90)),
    shift_case("large lower 100 vs 100", normal(900, 50, 100), normal(1000, 50, 100)),
]

rate_cases = [
    rate_case("few errors", 3, 1000, 2, 4000),
    rate_case("canary much worse", 40, 200, 10, 800),
    rate_case("no canary errors", 0, 500, 5, 2000),
    rate_case("no baseline errors", 7, 700, 0, 3000),
    rate_case("all errors on one side of one", 1, 100, 0, 400),
    rate_case("equal rates", 10, 1000, 40, 4000),
    rate_case("fractional increase()", 12.4, 1003.7, 30.6, 3998.2),
    rate_case("high traffic", 1200, 100000, 1000, 100000),
    rate_case("huge counts", 52000, 2.0e6, 150000, 6.0e6),
    rate_case("canary better", 2, 5000, 60, 15000),
]

# JSON has no infinity: an infinite ratio or bound is written as null.
for case in rate_cases:
    for key in ("ratio", "lower", "upper"):
        if case[key] == float("inf"):
            case[key] = None
print(
    json.dumps(
        {"confidence": CONFIDENCE, "shift": shift_cases, "rate": rate_cases},
        indent=1,
        allow_nan=False,
    )
)
