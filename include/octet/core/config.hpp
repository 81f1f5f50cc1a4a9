// octet — configuration macros shared by every header.
#pragma once

#define OCTET_VERSION_MAJOR 0
#define OCTET_VERSION_MINOR 1
#define OCTET_VERSION_PATCH 0

// Architecture families. OCTET_NO_SIMD (CMake option OCTET_DISABLE_SIMD) keeps only the scalar path: no
// intrinsic of any kind is compiled then.
#if !defined(OCTET_NO_SIMD) && (defined(__GNUC__) || defined(__clang__))
#  if defined(__x86_64__)
#    define OCTET_ARCH_X86 1
#  elif defined(__aarch64__)
#    define OCTET_ARCH_ARM64 1
#  endif
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define OCTET_RESTRICT __restrict__
#  define OCTET_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#  define OCTET_RESTRICT
#  define OCTET_ALWAYS_INLINE inline
#endif

// A target region: every function defined between OCTET_TARGET_BEGIN("avx2") and OCTET_TARGET_END() is
// compiled for that instruction set, templates included (Highway's technique). This is how a body written once
// over a small Ops struct (kernels/x86/micro.hpp, kernels/float_passes.hpp) becomes one function per ISA: each
// kernel file opens its own region and namespace and includes the body there. No -m flag is needed, and code
// outside the regions stays baseline, so it runs on any CPU of the architecture.
#define OCTET_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#  define OCTET_TARGET_BEGIN(t) OCTET_PRAGMA(clang attribute push(__attribute__((target(t))), apply_to = function))
#  define OCTET_TARGET_END() OCTET_PRAGMA(clang attribute pop)
#elif defined(__GNUC__)
#  define OCTET_TARGET_BEGIN(t) OCTET_PRAGMA(GCC push_options) OCTET_PRAGMA(GCC target(t))
#  define OCTET_TARGET_END() OCTET_PRAGMA(GCC pop_options)
#endif

// Header-only or compiled (CMake target octet::compiled, as spdlog's SPDLOG_COMPILED_LIB): the public templates
// only turn an Eigen expression into a view and call templates on views (one body per scalar type, not per
// expression). Those bodies are defined in the headers (the default), or, with OCTET_COMPILED_LIB, only
// declared there and instantiated once in src/octet.cpp (which also defines OCTET_COMPILING_LIB).
#if defined(OCTET_COMPILED_LIB) && !defined(OCTET_COMPILING_LIB)
#  define OCTET_DEFINE_BODIES 0
#else
#  define OCTET_DEFINE_BODIES 1
#endif
