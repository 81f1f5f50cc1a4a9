# Installs the headers and a CMake package so that find_package(octet) + octet::octet work.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/octet DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS octet EXPORT octetTargets)
install(EXPORT octetTargets NAMESPACE octet:: DESTINATION ${CMAKE_INSTALL_DATADIR}/octet/cmake)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/octetConfig.cmake.in
  ${PROJECT_BINARY_DIR}/octetConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_DATADIR}/octet/cmake)
# A header-only library fits any architecture: ARCH_INDEPENDENT.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/octetConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/octetConfig.cmake ${PROJECT_BINARY_DIR}/octetConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_DATADIR}/octet/cmake)

# The license, where distributions keep it, and a pkg-config file for projects that do not use CMake
# (`pkg-config --cflags octet`). The .pc file finds its prefix relative to itself, so the install can be moved.
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/octet)
file(RELATIVE_PATH OCTET_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_DATADIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" OCTET_PC_TO_PREFIX "${OCTET_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/octet.pc.in ${PROJECT_BINARY_DIR}/octet.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/octet.pc DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig)
