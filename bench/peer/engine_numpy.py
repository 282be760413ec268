"""
The engine's full recompute written the way a quant would with numpy/scipy, vectorised over lines
(design.md: "Number conventions", "Beyond gamma"): per-strike dollar gamma and delta/vanna/charm
exposure, the 401-point gamma profile, zero gamma (a 0.25 % bracketing grid over +-50 % with the
profile reused, then bisection on every bracket at once), hedge flow for 21 moves and the scenario
ladder. Reads a chain from a JSON file, prints {"medianMs", "runs", "result"} as JSON.

Used by bench/engine.bench.ts as the peer to compare speed with, and its numbers as a cross-check.
"""
import json
import sys
import time

import numpy as np
from scipy.special import ndtr

YEAR_MS = 365 * 86_400_000
INV_SQRT_2PI = 0.3989422804014327


def recompute(c, spot, now, axes):
    T = (c["expiry"] - now) / YEAR_MS
    s = c["iv"] * np.sqrt(T)
    w = c["q"] * c["mult"]
    lnFK = np.log(c["fwd"] / c["strike"])
    d1 = (lnFK + 0.5 * s * s) / s
    d2 = d1 - s
    pdf = INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
    dg = c["fwd"] * 0.01 * w * pdf / s
    nd1 = ndtr(d1)
    is_call = c["call"]
    delta = np.where(is_call, nd1, nd1 - 1.0)
    strikes, k = np.unique(c["strike"], return_inverse=True)
    call_gex = np.bincount(k, weights=np.where(is_call, dg, 0.0), minlength=len(strikes))
    put_gex = np.bincount(k, weights=np.where(is_call, 0.0, dg), minlength=len(strikes))
    dex = np.bincount(k, weights=w * delta, minlength=len(strikes))
    vex = np.bincount(k, weights=w * (-pdf * d2 / c["iv"]) * 0.01, minlength=len(strikes))
    cex = np.bincount(k, weights=w * (pdf * d2 / (2 * T)) / 365, minlength=len(strikes))

    a = c["fwd"] * 0.01 * w * INV_SQRT_2PI / s
    inv_s = 1.0 / s

    def gex_at(xs):
        L = np.log1p(xs)[:, None]
        d = d1[None, :] + L * inv_s[None, :]
        return (1.0 + xs) * (a[None, :] * np.exp(-0.5 * d * d)).sum(axis=1)

    xs = np.linspace(-0.2, 0.2, 401)
    profile = gex_at(xs)
    grid = np.concatenate([np.arange(-0.5, -0.2, 0.0025), xs, np.arange(0.2025, 0.5 + 1e-12, 0.0025)])
    vals = np.concatenate([gex_at(grid[grid < -0.2]), profile, gex_at(grid[grid > 0.2])])
    sign = vals > 0
    idx = np.nonzero(sign[1:] != sign[:-1])[0]
    lo, hi = grid[idx].copy(), grid[idx + 1].copy()
    lo_pos = sign[idx]
    while len(lo) and np.max(hi - lo) > 1e-4:
        mid = 0.5 * (lo + hi)
        v = gex_at(mid) > 0
        go_lo = v == lo_pos
        lo = np.where(go_lo, mid, lo)
        hi = np.where(go_lo, hi, mid)
    roots = spot * (1 + 0.5 * (lo + hi))
    roots = roots[np.argsort(np.abs(roots - spot))]

    def dealer_delta(moves, hours, vol):
        t = T[None, :] - hours * 3_600_000 / YEAR_MS
        sig = np.maximum(c["iv"] + vol, 0.01)
        ss = sig[None, :] * np.sqrt(np.maximum(t, 1e-300))
        d = (lnFK[None, :] + np.log1p(moves)[:, None] + 0.5 * ss * ss) / ss
        n = ndtr(d)
        dl = np.where(is_call[None, :], n, n - 1.0)
        return (np.where(t > 0, dl, 0.0) * w[None, :]).sum(axis=1)

    moves = np.array(axes["flowMoves"])
    d0 = dealer_delta(np.array([0.0]), 0.0, 0.0)[0]
    flows = -(dealer_delta(moves, 0.0, 0.0) - d0)
    ladder = np.empty((len(axes["moves"]), len(axes["hours"]), len(axes["volShifts"])))
    lm = np.array(axes["moves"])
    for h, hours in enumerate(axes["hours"]):
        for v, vol in enumerate(axes["volShifts"]):
            ladder[:, h, v] = -(dealer_delta(lm, hours, vol) - d0)
    return {
        "totalNetGex": float(call_gex.sum() + put_gex.sum()),
        "netGex": (call_gex + put_gex).tolist(),
        "deltaExposure": dex.tolist(),
        "vannaExposure": vex.tolist(),
        "charmExposure": cex.tolist(),
        "crossings": roots.tolist(),
        "flows": flows.tolist(),
        "ladder": ladder.reshape(-1).tolist(),
    }


def main():
    spec = json.load(open(sys.argv[1]))
    c = {k: np.array(v, dtype=float) for k, v in spec["chain"].items()}
    c["call"] = c["call"] > 0
    runs = spec.get("runs", 100)
    for _ in range(5):
        result = recompute(c, spec["spot"], spec["now"], spec["axes"])
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = recompute(c, spec["spot"], spec["now"], spec["axes"])
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(json.dumps({"medianMs": times[len(times) // 2], "runs": runs, "numpy": np.__version__, "result": result}))


if __name__ == "__main__":
    main()
