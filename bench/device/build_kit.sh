#!/bin/sh
# Builds a kit for a machine that has Python (with onnxruntime and onnx) but no compiler and no Eigen: a
# static test binary, the C ABI library of bench/octet_capi.cpp, the timing script, and run.sh. See
# bench/README.md.
#   bench/device/build_kit.sh [out-dir]      (default build/device-kit; then copy that folder over)
# Environment: CXX (default g++), EIGEN_INCLUDE (default /usr/include/eigen3), OCTET_TEST_FILES (a space-separated
# subset of tests/test_*.cpp names, for a quicker build; default all).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build/device-kit}
CXX=${CXX:-g++}
EIGEN=${EIGEN_INCLUDE:-/usr/include/eigen3}
mkdir -p "$OUT"

tests=""
if [ -n "${OCTET_TEST_FILES:-}" ]; then
  for f in $OCTET_TEST_FILES; do tests="$tests $ROOT/tests/$f"; done
else
  tests=$(ls "$ROOT"/tests/test_*.cpp)
fi

# 1. The test suite as one static executable with OpenMP inside: no shared library needed on the target.
echo "kit: octet_tests (static)"
# shellcheck disable=SC2086
"$CXX" -O2 -std=c++17 -fopenmp -static -I"$ROOT/include" -I"$ROOT/tests" -I"$EIGEN" \
  "$ROOT/tests/main.cpp" $tests -o "$OUT/octet_tests" -ldl -lpthread

# 2. The C ABI library without OpenMP (octet's own std::thread pool: no libgomp to clash with the one
#    onnxruntime or torch bring), libstdc++ and libgcc linked in.
echo "kit: liboctet_bench_capi.so"
"$CXX" -O2 -std=c++17 -fPIC -shared -fvisibility=hidden -fvisibility-inlines-hidden -static-libstdc++ -static-libgcc \
  -I"$ROOT/include" -I"$ROOT/bench" -I"$EIGEN" "$ROOT/bench/octet_capi.cpp" -o "$OUT/liboctet_bench_capi.so" -lpthread

# 3. The timing script and how to run everything.
cp "$ROOT/bench/peers_onnxruntime.py" "$OUT/"
cat > "$OUT/run.sh" <<'RUN'
#!/bin/sh
# On the target: the tests, then octet (amx and avx512vnni) against onnxruntime at 1, 4 and 16 threads.
set -eu
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
./octet_tests
for isa in amx avx512vnni; do
  "$PY" peers_onnxruntime.py --no-venv --lib ./liboctet_bench_capi.so --isa "$isa" --threads 1,4,16 \
    --libraries octet_gemm,octet_linear,ort_matmulint,ort_dqmatmul --csv "peers_$isa.csv" | tee "peers_$isa.md"
done
RUN
chmod +x "$OUT/run.sh"
echo "kit: $OUT (copy it over and run ./run.sh)"
