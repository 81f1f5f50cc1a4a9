// octet — 8-bit quantization and LLM.int8() mixed-precision matrix multiplication for Eigen.
//
// The one header to include. The public headers, each a thin Eigen face over the layers below:
//   quantize.hpp          quantizer policies (AbsMax, ZeroPoint, MidRange, MinMax) x (PerTensor, PerRow, PerColumn)
//   quantized_matmul.hpp  matmul(qa, qb): the product of two Quantized matrices in the integer domain
//   gemm.hpp              the int8 GEMM (gemm_i8, PackedB), run-time kernel choice (active_isa) and threads
//   llm_int8.hpp          matmul_vectorwise, matmul_llm_int8, outlier_columns, LLMInt8Linear
// and the layers, whose includes flow one way (public -> llm -> gemm -> kernels -> core):
//   llm/                  the LLM.int8() passes (outlier scan, row quantization, dequantizing epilogue) on views
//   gemm/                 packing (pack.hpp), the generic driver (driver.hpp), the one dispatch (dispatch.hpp)
//   kernels/              the contract, the scalar reference, and one small file per instruction set
//   core/                 config, views, checks, scratch, threads, ISA detection, the schemes' arithmetic
#pragma once

#include "core/config.hpp"
#include "gemm.hpp"
#include "llm_int8.hpp"
#include "quantize.hpp"
#include "quantized_matmul.hpp"
