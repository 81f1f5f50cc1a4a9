// octet — configuration macros shared by every header.
#pragma once

#define OCTET_VERSION_MAJOR 0
#define OCTET_VERSION_MINOR 1
#define OCTET_VERSION_PATCH 0

// Architecture families. OCTET_NO_SIMD (CMake option OCTET_DISABLE_SIMD) keeps only the scalar path.
#if !defined(OCTET_NO_SIMD) && (defined(__GNUC__) || defined(__clang__))
#  if defined(__x86_64__) || defined(__i386__)
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
