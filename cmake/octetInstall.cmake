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
