// octet — 8-bit quantization and LLM.int8() mixed-precision matrix multiplication for Eigen.
//
// The one header to include. What is where:
//   quantize.hpp     quantizer policies (AbsMax, ZeroPoint, MidRange, MinMax) x (PerTensor, PerRow, PerColumn)
//   gemm.hpp         the int8 GEMM (gemm_i8, PackedB), run-time kernel choice (active_isa) and threads
//   llm_int8.hpp     matmul_vectorwise, matmul_llm_int8, LLMInt8Linear, matmul(qa, qb)
//   core/            the generic driver on pointers and strides: packing, blocking, threads, ISA detection
//   kernels/         one small file per instruction set, and reference.hpp, the scalar definition of the result
#pragma once

#include "core/config.hpp"
#include "gemm.hpp"
#include "llm_int8.hpp"
#include "quantize.hpp"
