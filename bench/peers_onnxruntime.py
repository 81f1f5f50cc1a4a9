#!/usr/bin/env python3
"""octet, oneDNN, Eigen and onnxruntime side by side, in one process, interleaved.

    bench/peers_onnxruntime.py [--quick] [--threads 1,2] [--reps 7] [--isa amx] [--csv build/bench/peers.csv]

The script makes its own virtual environment (build/bench-venv, from bench/requirements-peers.txt) when it is
missing or out of date, and re-runs itself there. It needs the C ABI library of bench/octet_capi.cpp
(build/release/bench/liboctet_bench_capi.so: `cmake --build build/release --target octet_bench_capi`;
scripts/bench builds it), which it loads with ctypes, so that octet, oneDNN and Eigen run in the same process as
onnxruntime, on the same buffers, with the same thread count.

What is timed, per shape m x k x n and thread count (GOPS = 2 m n k / s / 1e9):
  int8 in, int32 out (the raw GEMM, weights prepared once):
    octet_gemm        octet::gemm_i8, A int8 row-major, B packed once (PackedB), C written row-major
    onednn_s8         oneDNN matmul s8 x s8 -> s32, weights reordered once (format_tag::any)
    ort_matmulint     onnxruntime MatMulInteger: A uint8 with a_zero_point 128 (the same product as A - 128 in
                      int8), B int8 initializer (prepacked by the session)
  float in, float out (dynamic quantization of the activations inside the call):
    octet_linear      octet::LLMInt8Linear::forward (X has no value above the threshold 6: no outlier column,
                      so this is the vector-wise int8 path plus the outlier scan)
    ort_dqmatmul      onnxruntime com.microsoft DynamicQuantizeMatMul: float A, B int8 initializer with per-column
                      scales (A quantized to uint8 per tensor inside the call)
  float reference:
    eigen_native      Eigen float GEMM compiled with -march=native (bench/eigen_native.hpp)
    eigen_f32         Eigen float GEMM built without -m flags (SSE2), as the C++ benchmarks' "Eigen f32"
Threads: octet_capi_set_threads(t) sets octet, Eigen and oneDNN's OpenMP; onnxruntime gets sessions made with
intra_op_num_threads = t (and inter_op_num_threads = 1).

Method: per (shape, threads), every library is warmed up and calibrated (enough calls to last --sample
seconds), then --reps rounds run every library once each, the order rotating from round to round, with a short
pause between libraries (so that spinning worker threads of the previous one go idle). Each library's
per-call times give the median, best and worst GOPS. Results: a CSV (--csv) and Markdown tables on stdout.
"""
import argparse
import csv
import ctypes
import datetime
import os
import platform
import subprocess
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUIREMENTS = os.path.join(ROOT, "bench", "requirements-peers.txt")
DEFAULT_VENV = os.path.join(ROOT, "build", "bench-venv")


def ensure_venv(venv):
    """Creates the virtual environment (once), installs the pinned requirements (when they changed) and
    re-executes this script with its interpreter."""
    py = os.path.join(venv, "bin", "python")
    marker = os.path.join(venv, ".octet-requirements")
    with open(REQUIREMENTS) as f:
        wanted = f.read()
    if os.path.realpath(sys.prefix) == os.path.realpath(venv):
        return
    if not os.path.exists(py):
        print(f"peers: creating a virtual environment in {venv}", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", venv])
    have = open(marker).read() if os.path.exists(marker) else None
    if have != wanted:
        print(f"peers: installing {REQUIREMENTS} into {venv}", file=sys.stderr)
        subprocess.check_call([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", REQUIREMENTS])
        with open(marker, "w") as f:
            f.write(wanted)
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")  # NumPy's BLAS is not measured: keep its threads out of the way
    os.execve(py, [py, os.path.abspath(sys.argv[0])] + sys.argv[1:], env)  # the script that was run


FULL_SHAPES = [(1, 4096, 4096), (8, 4096, 4096), (32, 4096, 4096), (128, 4096, 4096), (512, 4096, 4096),
               (1024, 1024, 1024), (2048, 2048, 2048), (128, 4096, 14336)]
QUICK_SHAPES = [(1, 4096, 4096), (32, 4096, 4096), (128, 4096, 4096)]
LIBRARIES = ["octet_gemm", "onednn_s8", "ort_matmulint", "octet_linear", "ort_dqmatmul", "eigen_native", "eigen_f32"]
LABELS = {"octet_gemm": "octet gemm_i8", "onednn_s8": "oneDNN s8", "ort_matmulint": "ORT MatMulInteger",
          "octet_linear": "octet LLMInt8Linear", "ort_dqmatmul": "ORT DynamicQuantizeMatMul",
          "eigen_native": "Eigen native f32", "eigen_f32": "Eigen f32 (SSE2)"}


def machine():
    model = platform.processor() or "cpu"
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("cpu", platform.machine()):
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    isa = [f for f in ("avx2", "fma", "avx_vnni", "avx512f", "avx512_vnni", "amx_int8") if f in flags]
    return f"{model}, {os.cpu_count()} cores, {'+'.join(isa) or 'no AVX2'}"


def load_capi(path):
    lib = ctypes.CDLL(path)
    vp, i64, cf, ci = ctypes.c_void_p, ctypes.c_long, ctypes.c_float, ctypes.c_int
    sig = {
        "octet_capi_last_error": (ctypes.c_char_p, []),
        "octet_capi_isa": (ctypes.c_char_p, []),
        "octet_capi_have_onednn": (ci, []),
        "octet_capi_have_eigen_native": (ci, []),
        "octet_capi_set_threads": (None, [ci]),
        "octet_capi_linear_create": (vp, [vp, i64, i64, cf]),
        "octet_capi_linear_forward": (ci, [vp, vp, i64, vp]),
        "octet_capi_linear_outliers": (i64, [vp, vp, i64]),
        "octet_capi_linear_free": (None, [vp]),
        "octet_capi_gemm_create": (vp, [vp, i64, i64]),
        "octet_capi_gemm": (ci, [vp, vp, i64, vp]),
        "octet_capi_gemm_free": (None, [vp]),
        "octet_capi_onednn_create": (vp, [vp, i64, i64, i64]),
        "octet_capi_onednn": (ci, [vp, vp, vp]),
        "octet_capi_onednn_free": (None, [vp]),
        "octet_capi_eigen": (ci, [ci, vp, vp, vp, i64, i64, i64]),
    }
    for name, (res, args) in sig.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


def check(rc, lib, what):
    if rc != 0:
        raise RuntimeError(f"{what}: {lib.octet_capi_last_error().decode()}")


class Case:
    """The data of one shape and the callables of every library on it, for one thread count."""

    def __init__(self, lib, ort, np, shape, threads, rng):
        from onnx import TensorProto, helper, numpy_helper
        self.lib, self.shape, self.threads = lib, shape, threads
        m, k, n = shape
        self.np = np
        # Weights N(0, 0.02) as a transformer's; activations N(0, 1) clipped to |x| <= 5 (no outlier column).
        self.w = (rng.standard_normal((k, n), dtype=np.float32) * 0.02).astype(np.float32)
        self.x = np.clip(rng.standard_normal((m, k), dtype=np.float32), -5, 5).astype(np.float32)
        step = np.abs(self.w).max(axis=0) / 127.0
        self.b = np.round(self.w / step).astype(np.int8)        # W's codes per column, as octet quantizes it
        self.step = step.astype(np.float32)
        self.a = rng.integers(-128, 128, size=(m, k), dtype=np.int8)
        self.a_u8 = (self.a.astype(np.int16) + 128).astype(np.uint8)
        self.c = {name: np.zeros((m, n), dtype=np.int32) for name in ("octet_gemm", "onednn_s8", "ort_matmulint")}
        self.y = {name: np.zeros((m, n), dtype=np.float32)
                  for name in ("octet_linear", "ort_dqmatmul", "eigen_native", "eigen_f32")}
        p = lambda arr: arr.ctypes.data

        self.handles = []
        self.run = {}
        lib.octet_capi_set_threads(threads)
        g = lib.octet_capi_gemm_create(p(self.b), k, n)
        if not g:
            raise RuntimeError(lib.octet_capi_last_error().decode())
        self.handles.append((lib.octet_capi_gemm_free, g))
        a_p, c_p = p(self.a), p(self.c["octet_gemm"])
        self.run["octet_gemm"] = lambda: lib.octet_capi_gemm(g, a_p, m, c_p)
        if lib.octet_capi_have_onednn():
            d = lib.octet_capi_onednn_create(p(self.b), m, k, n)
            if not d:
                raise RuntimeError(lib.octet_capi_last_error().decode())
            self.handles.append((lib.octet_capi_onednn_free, d))
            cd_p = p(self.c["onednn_s8"])
            self.run["onednn_s8"] = lambda: lib.octet_capi_onednn(d, a_p, cd_p)
        layer = lib.octet_capi_linear_create(p(self.w), k, n, 6.0)
        if not layer:
            raise RuntimeError(lib.octet_capi_last_error().decode())
        self.handles.append((lib.octet_capi_linear_free, layer))
        x_p, y_p = p(self.x), p(self.y["octet_linear"])
        self.outliers = lib.octet_capi_linear_outliers(layer, x_p, m)
        self.run["octet_linear"] = lambda: lib.octet_capi_linear_forward(layer, x_p, m, y_p)
        w_p = p(self.w)
        if lib.octet_capi_have_eigen_native():
            yn_p = p(self.y["eigen_native"])
            self.run["eigen_native"] = lambda: lib.octet_capi_eigen(1, x_p, w_p, yn_p, m, k, n)
        ye_p = p(self.y["eigen_f32"])
        self.run["eigen_f32"] = lambda: lib.octet_capi_eigen(0, x_p, w_p, ye_p, m, k, n)

        # onnxruntime: one session per model and thread count, B an initializer (prepacked when the session is made).
        def session(node, inputs, output, inits):
            graph = helper.make_graph([node], node.op_type, inputs, [output], initializer=inits)
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                            helper.make_opsetid("com.microsoft", 1)])
            model.ir_version = 8
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            so.log_severity_level = 3
            return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])

        def bound(sess, name_in, arr_in, name_out, arr_out, elem):
            io = sess.io_binding()
            io.bind_ortvalue_input(name_in, ort.OrtValue.ortvalue_from_numpy(arr_in))
            io.bind_output(name_out, "cpu", 0, elem, list(arr_out.shape), arr_out.ctypes.data)
            return lambda: sess.run_with_iobinding(io)

        s_mmi = session(helper.make_node("MatMulInteger", ["A", "B", "a_zero_point"], ["Y"]),
                        [helper.make_tensor_value_info("A", TensorProto.UINT8, [m, k])],
                        helper.make_tensor_value_info("Y", TensorProto.INT32, [m, n]),
                        [numpy_helper.from_array(self.b, "B"),
                         numpy_helper.from_array(np.array(128, dtype=np.uint8), "a_zero_point")])
        self.run["ort_matmulint"] = bound(s_mmi, "A", self.a_u8, "Y", self.c["ort_matmulint"], np.int32)
        s_dq = session(helper.make_node("DynamicQuantizeMatMul", ["A", "B", "b_scale"], ["Y"], domain="com.microsoft"),
                       [helper.make_tensor_value_info("A", TensorProto.FLOAT, [m, k])],
                       helper.make_tensor_value_info("Y", TensorProto.FLOAT, [m, n]),
                       [numpy_helper.from_array(self.b, "B"), numpy_helper.from_array(self.step, "b_scale")])
        self.run["ort_dqmatmul"] = bound(s_dq, "A", self.x, "Y", self.y["ort_dqmatmul"], np.float32)
        self.sessions = (s_mmi, s_dq)

    def call(self, name):
        rc = self.run[name]()
        if rc not in (None, 0):
            check(rc, self.lib, name)

    def checks(self):
        """What each library computed, against exact int64 (int8 GEMMs) and float64 (float) references on a few
        rows: 'exact' or the count of differing entries; the float ones' relative error (Frobenius)."""
        np = self.np
        rows = min(self.shape[0], 4)
        ref_c = self.a[:rows].astype(np.int64) @ self.b.astype(np.int64)
        ref_y = self.x[:rows].astype(np.float64) @ self.w.astype(np.float64)
        out = {}
        for name, c in self.c.items():
            if name in self.run:
                bad = int(np.count_nonzero(c[:rows] != ref_c))
                out[name] = "exact" if bad == 0 else f"{bad}/{ref_c.size} differ"
        for name, y in self.y.items():
            if name in self.run:
                out[name] = f"rel.err {np.linalg.norm(y[:rows] - ref_y) / np.linalg.norm(ref_y):.1e}"
        return out

    def close(self):
        for free, h in self.handles:
            free(h)
        self.handles = []


def measure(case, names, reps, sample_s, pause_s):
    m, k, n = case.shape
    ops = 2.0 * m * k * n
    iters = {}
    for name in names:                     # warm up (buffers, thread pools, first-touch), then calibrate
        case.call(name)
        t0 = time.perf_counter()
        case.call(name)
        one = time.perf_counter() - t0
        iters[name] = max(1, int(sample_s / max(one, 1e-7)))
    times = {name: [] for name in names}
    for r in range(reps):
        order = names[r % len(names):] + names[:r % len(names)]  # rotate: no library always runs first
        for name in order:
            time.sleep(pause_s)
            it = iters[name]
            t0 = time.perf_counter()
            for _ in range(it):
                case.call(name)
            times[name].append((time.perf_counter() - t0) / it)
    res = {}
    for name in names:
        g = sorted(ops / t * 1e-9 for t in times[name])
        res[name] = {"median": statistics.median(g), "best": g[-1], "worst": g[0], "samples": len(g),
                     "calls_per_sample": iters[name]}
    return res


def fmt(v):
    return "-" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 shapes (m = 1, 32, 128; k = n = 4096), 3 rounds")
    ap.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default 1,2)")
    ap.add_argument("--reps", type=int, default=None, help="rounds per case (default 7, --quick 3)")
    ap.add_argument("--sample", type=float, default=None, help="seconds per timed sample (default 0.2, --quick 0.1)")
    ap.add_argument("--pause", type=float, default=0.02, help="seconds of pause before each sample (default 0.02)")
    ap.add_argument("--shapes", default=None, help="m x k x n list, e.g. 1x4096x4096,128x4096x4096")
    ap.add_argument("--libraries", default=None, help="subset of " + ",".join(LIBRARIES))
    ap.add_argument("--lib", default=os.path.join(ROOT, "build", "release", "bench", "liboctet_bench_capi.so"))
    ap.add_argument("--csv", default=os.path.join(ROOT, "build", "bench", "peers.csv"))
    ap.add_argument("--venv", default=DEFAULT_VENV)
    ap.add_argument("--isa", default=None, help="octet's kernel family (sets OCTET_ISA: amx, avx512vnni, ...)")
    ap.add_argument("--no-venv", action="store_true", help="use this interpreter as it is")
    args = ap.parse_args()
    if not args.no_venv:
        ensure_venv(args.venv)

    import numpy as np
    import onnxruntime as ort

    if not os.path.exists(args.lib):
        sys.exit(f"peers: {args.lib} is missing: cmake --build build/release --target octet_bench_capi")
    if args.isa:
        os.environ["OCTET_ISA"] = args.isa  # read by octet on its first call, after the library is loaded
    lib = load_capi(args.lib)
    shapes = QUICK_SHAPES if args.quick else FULL_SHAPES
    if args.shapes:
        shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    reps = args.reps or (3 if args.quick else 7)
    sample = args.sample or (0.1 if args.quick else 0.2)
    threads = [int(t) for t in args.threads.split(",")]
    wanted = args.libraries.split(",") if args.libraries else LIBRARIES
    date = datetime.date.today().isoformat()
    where = machine()
    isa = lib.octet_capi_isa().decode()
    print(f"# {where}; octet path {isa}; onnxruntime {ort.__version__}; {date}", file=sys.stderr)

    rng = np.random.default_rng(2026)
    rows = []
    for shape in shapes:
        for t in threads:
            case = Case(lib, ort, np, shape, t, rng)
            names = [nm for nm in wanted if nm in case.run]
            res = measure(case, names, reps, sample, args.pause)
            checks = case.checks()
            m, k, n = shape
            for name in names:
                r = res[name]
                rows.append({"date": date, "machine": where, "octet_isa": isa, "onnxruntime": ort.__version__,
                             "library": name, "m": m, "k": k, "n": n, "threads": t,
                             "gops_median": round(r["median"], 2), "gops_best": round(r["best"], 2),
                             "gops_worst": round(r["worst"], 2), "samples": r["samples"],
                             "calls_per_sample": r["calls_per_sample"], "check": checks.get(name, ""),
                             "x_outlier_columns": case.outliers})
            line = "  ".join(f"{nm} {fmt(res[nm]['median'])}" for nm in names)
            print(f"{m}x{k}x{n} t={t}: {line}", file=sys.stderr, flush=True)
            case.close()
            del case

    os.makedirs(os.path.dirname(os.path.abspath(args.csv)), exist_ok=True)
    with open(args.csv, "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        wr.writeheader()
        wr.writerows(rows)
    print_markdown(rows, shapes, threads, wanted, where, isa, ort.__version__, date, reps)
    print(f"\n(CSV: {args.csv})")


def print_markdown(rows, shapes, threads, wanted, where, isa, ort_version, date, reps):
    get = {(r["library"], r["m"], r["k"], r["n"], r["threads"]): r for r in rows}
    libs = [nm for nm in wanted if any(r["library"] == nm for r in rows)]
    print(f"\n{date}, {where}; octet path `{isa}`, onnxruntime {ort_version}; one process, libraries interleaved, "
          f"{reps} rounds. GOPS = 2mnk/s / 1e9, median (best) of the rounds.\n")
    print("| m x k x n | threads | " + " | ".join(LABELS[nm] for nm in libs) + " | octet gemm / ORT MatMulInteger"
          " | octet linear / ORT DQMatMul |")
    print("|---|--:|" + "--:|" * (len(libs) + 2))
    for (m, k, n) in shapes:
        for t in threads:
            cells = []
            for nm in libs:
                r = get.get((nm, m, k, n, t))
                cells.append("-" if r is None else f"{fmt(r['gops_median'])} ({fmt(r['gops_best'])})")

            def ratio(a, b):
                ra, rb = get.get((a, m, k, n, t)), get.get((b, m, k, n, t))
                return f"{ra['gops_median'] / rb['gops_median']:.2f}x" if ra and rb else "-"
            print(f"| {m} x {k} x {n} | {t} | " + " | ".join(cells) + f" | {ratio('octet_gemm', 'ort_matmulint')}"
                  f" | {ratio('octet_linear', 'ort_dqmatmul')} |")
    spreads = [(r["gops_best"] - r["gops_worst"]) / r["gops_median"] for r in rows if r["gops_median"] > 0]
    if spreads:
        print(f"\nSpread (best - worst) / median over all cells: median {100 * statistics.median(spreads):.0f}%, "
              f"largest {100 * max(spreads):.0f}%.")
    notes = []
    for nm in libs:
        cs = [r["check"] for r in rows if r["library"] == nm and r["check"]]
        if not cs:
            continue
        if all(c.startswith("rel.err") for c in cs):
            notes.append(f"{LABELS[nm]}: relative error up to {max(float(c.split()[1]) for c in cs):.1e}")
        else:
            exact = sum(c == "exact" for c in cs)
            shares = [int(c.split("/")[0]) / int(c.split("/")[1].split()[0]) for c in cs if c != "exact"]
            notes.append(f"{LABELS[nm]}: exact in {exact} of {len(cs)} cases" + (
                "" if not shares else f" ({100 * min(shares):.0f}-{100 * max(shares):.0f}% of the checked entries differ)"))
    print("Checked on the first rows (up to 4) against int64 / float64 references: " + "; ".join(notes) + ".")


if __name__ == "__main__":
    main()
