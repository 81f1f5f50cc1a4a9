# CTest script: installs octet into a scratch prefix, then configures, builds and runs tests/package.
# Inputs: -DSOURCE_DIR=... -DWORK_DIR=... -DCXX=... -DGEN=<generator>
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}")
  endif()
  message(STATUS "${out}")
endfunction()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/octet -G ${GEN} -DCMAKE_CXX_COMPILER=${CXX}
    -DOCTET_BUILD_TESTS=OFF -DOCTET_BUILD_BENCHMARKS=OFF -DOCTET_BUILD_EXAMPLES=OFF
    -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/octet)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/package -B ${WORK_DIR}/consumer -G ${GEN} -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run(${WORK_DIR}/consumer/consumer)

# The install carries the license and a pkg-config file; a program built with `pkg-config --cflags --libs octet`
# alone (when pkg-config is there) runs.
foreach(f share/doc/octet/LICENSE share/pkgconfig/octet.pc)
  if(NOT EXISTS ${WORK_DIR}/prefix/${f})
    message(FATAL_ERROR "the install has no ${f}")
  endif()
endforeach()
find_program(PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf)
if(PKG_CONFIG_EXECUTABLE)
  set(ENV{PKG_CONFIG_PATH} ${WORK_DIR}/prefix/share/pkgconfig)
  execute_process(COMMAND ${PKG_CONFIG_EXECUTABLE} --cflags --libs octet RESULT_VARIABLE rc OUTPUT_VARIABLE flags
                  ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config --cflags --libs octet failed: ${err}")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  run(${CXX} -std=c++17 -O1 ${SOURCE_DIR}/tests/package/main.cpp ${flags} -o ${WORK_DIR}/pkgconfig_consumer)
  run(${WORK_DIR}/pkgconfig_consumer)
else()
  message(STATUS "pkg-config not found: the octet.pc check is skipped")
endif()
