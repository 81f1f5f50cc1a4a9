# Cross-compiles for 64-bit ARM with Debian's g++-aarch64-linux-gnu; tests run under qemu's user-mode emulator.
# The emulated CPU comes from QEMU_CPU (e.g. "max" has dotprod, "cortex-a57" has not).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
# Eigen and Catch2 are header-only: their host packages serve the target too.
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# The emulator is qemu-aarch64-static (Debian 12's qemu-user-static, Ubuntu) or qemu-aarch64 (qemu-user; from
# Debian 13 on, where qemu-user-static is only a transitional package and later gone). Set OCTET_QEMU_AARCH64 to
# use another one.
find_program(OCTET_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(NOT OCTET_QEMU_AARCH64)
  message(FATAL_ERROR "octet: no aarch64 emulator found (neither qemu-aarch64-static nor qemu-aarch64 is on the "
                      "PATH) to run the cross-built tests. Install qemu-user (or qemu-user-static), e.g. with "
                      "scripts/setup test, or set OCTET_QEMU_AARCH64 to an emulator.")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR ${OCTET_QEMU_AARCH64} -L /usr/aarch64-linux-gnu)
