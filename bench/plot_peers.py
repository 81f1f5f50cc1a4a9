#!/usr/bin/env python3
"""Plots of bench/peers_onnxruntime.py's CSV: GOPS against m per library, one PNG per thread count.

    bench/plot_peers.py build/bench/peers.csv --out build/bench      # bench_1t.png, bench_2t.png
    bench/plot_peers.py bench/results/peers_2026-11-23.csv --out docs/img   # the README's pictures

Left panel: the k = n = 4096 shapes, GOPS against m (log scale), the median of the rounds with a bar from the
worst to the best round. Right panel: the other shapes (square ones, and m x 4096 x 14336), grouped bars.
Uses matplotlib from build/bench-venv (made by peers_onnxruntime.py), or from this interpreter with --no-venv.
"""
import argparse
import csv
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))

STYLE = {  # library: (label, colour, marker, line style)
    "octet_gemm": ("octet gemm_i8 (int8 in, int32 out)", "#d62728", "o", "-"),
    "onednn_s8": ("oneDNN 2.6 s8 matmul (int8 in, int32 out)", "#9467bd", "v", "-"),
    "ort_matmulint": ("onnxruntime MatMulInteger (uint8 x int8, int32 out)", "#1f77b4", "s", "-"),
    "octet_linear": ("octet LLMInt8Linear (float in, float out)", "#d62728", "o", "--"),
    "ort_dqmatmul": ("onnxruntime DynamicQuantizeMatMul (float in, float out)", "#1f77b4", "s", "--"),
    "eigen_native": ("Eigen float, -march=native", "#2ca02c", "^", ":"),
    "eigen_f32": ("Eigen float, SSE2", "#7f7f7f", "^", ":"),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--no-venv", action="store_true")
    ap.add_argument("--venv", default=os.path.join(ROOT, "build", "bench-venv"))
    args = ap.parse_args()
    if not args.no_venv:
        from peers_onnxruntime import ensure_venv
        ensure_venv(args.venv)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(args.csv) as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for key in ("m", "k", "n", "threads"):
            r[key] = int(r[key])
        for key in ("gops_median", "gops_best", "gops_worst"):
            r[key] = float(r[key])
    os.makedirs(args.out, exist_ok=True)
    libs = [lib for lib in STYLE if any(r["library"] == lib for r in rows)]
    first = rows[0]
    rounds = first["samples"]
    for t in sorted({r["threads"] for r in rows}):
        fig, (ax, bx) = plt.subplots(1, 2, figsize=(14, 6.2), gridspec_kw={"width_ratios": [3, 2]})
        line = [r for r in rows if r["threads"] == t and r["k"] == 4096 and r["n"] == 4096]
        for lib in libs:
            pts = sorted((r for r in line if r["library"] == lib), key=lambda r: r["m"])
            if not pts:
                continue
            label, colour, marker, ls = STYLE[lib]
            ms = [r["m"] for r in pts]
            med = [r["gops_median"] for r in pts]
            err = [[r["gops_median"] - r["gops_worst"] for r in pts], [r["gops_best"] - r["gops_median"] for r in pts]]
            ax.errorbar(ms, med, yerr=err, label=label, color=colour, marker=marker, linestyle=ls, capsize=3,
                        linewidth=1.8, markersize=6)
        ax.set_xscale("log", base=2)
        ms_all = sorted({r["m"] for r in line})
        ax.set_xticks(ms_all)
        ax.set_xticklabels([str(m) for m in ms_all])
        ax.set_xlabel("m (rows of the activations), k = n = 4096")
        ax.set_ylabel("GOPS (2mnk / s / 1e9), higher is better")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.set_title("m x 4096 x 4096")
        ax.legend(fontsize=8.5, loc="upper left")

        other = sorted({(r["m"], r["k"], r["n"]) for r in rows if r["threads"] == t and not (r["k"] == 4096 and r["n"] == 4096)})
        if other:
            width = 0.8 / max(1, len(libs))
            for i, lib in enumerate(libs):
                label, colour, _, ls = STYLE[lib]
                get = {(r["m"], r["k"], r["n"]): r for r in rows if r["threads"] == t and r["library"] == lib}
                xs = [s + (i - (len(libs) - 1) / 2) * width for s in range(len(other))]
                vals = [get[s]["gops_median"] if s in get else 0 for s in other]
                bx.bar(xs, vals, width, color=colour, hatch="//" if ls == "--" else ".." if ls == ":" else None,
                       edgecolor="white", linewidth=0.5)
            bx.set_xticks(range(len(other)))
            bx.set_xticklabels([f"{m} x {k} x {n}" for m, k, n in other], fontsize=9)
            bx.set_ylabel("GOPS (median)")
            bx.grid(True, axis="y", alpha=0.3)
            bx.set_title("other shapes (same colours; hatched: float in, float out)")
        else:
            bx.set_visible(False)
        fig.suptitle(f"octet vs onnxruntime {first['onnxruntime']}, oneDNN and Eigen, {t} thread{'s' if t > 1 else ''}"
                     f" — {first['machine']}{'' if 'vnni' in first['machine'] else ' (no VNNI)'}, octet path {first['octet_isa']}\n{first['date']}, one process, "
                     f"libraries interleaved; median of {rounds} rounds, bars from worst to best round "
                     f"(a shared, noisy VM)", fontsize=11)
        fig.tight_layout()
        path = os.path.join(args.out, f"bench_{t}t.png")
        fig.savefig(path, dpi=90)
        plt.close(fig)
        print(f"plot: {path}")


if __name__ == "__main__":
    main()
