# Build helpers shared by every module.

# Strict warnings for project code (third-party headers are SYSTEM includes).
# (-Wshadow=local is GCC's spelling; clang, used by the fuzz preset, lacks it.)
set(CELLAR_WARNINGS
    -Wall -Wextra -Wpedantic -Werror $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local> -Wnon-virtual-dtor
    -Wimplicit-fallthrough -Wno-missing-field-initializers)

set(CELLAR_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)

function(cellar_apply_common target)
  target_compile_options(${target} PRIVATE ${CELLAR_WARNINGS})
  if(CELLAR_SANITIZE)
    target_compile_options(${target} PRIVATE ${CELLAR_SANITIZER_FLAGS})
    target_link_options(${target} PRIVATE ${CELLAR_SANITIZER_FLAGS})
  endif()
  if(CELLAR_FUZZ)
    # Coverage instrumentation for libFuzzer in every library, not only in the fuzz
    # target itself, so the fuzzer is guided by the code it tests.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()

# cellar_library(NAME <module> SOURCES <files...> DEPS <targets...>)
# Creates the static library cellar_<module>; include paths are rooted at src/.
function(cellar_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_library(cellar_${ARG_NAME} STATIC ${ARG_SOURCES})
  target_include_directories(cellar_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(cellar_${ARG_NAME} PUBLIC ${ARG_DEPS})
  cellar_apply_common(cellar_${ARG_NAME})
  if(CELLAR_SANITIZE)
    target_link_options(cellar_${ARG_NAME} INTERFACE ${CELLAR_SANITIZER_FLAGS})
  endif()
endfunction()

# cellar_test(NAME <name> SOURCES <files...> DEPS <targets...> LABELS <labels...>
#             [TIMEOUT seconds])
# One gtest binary; each TEST() becomes its own ctest entry carrying LABELS.
# GTEST_SKIP() is reported by ctest as "Skipped".
function(cellar_test)
  if(NOT CELLAR_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} cellar_testing GTest::gtest GTest::gmock)
  cellar_apply_common(${ARG_NAME})
  gtest_discover_tests(${ARG_NAME}
    DISCOVERY_MODE PRE_TEST
    DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
               ENVIRONMENT "CELLAR_SHARED_DIR=${CELLAR_SHARED_DIR}")
endfunction()

# cellar_module(NAME <module> DEPS <targets...> [TEST_DEPS <targets...>])
# Builds the module in the current folder from globbed sources, so that several
# people can add files to a module without editing its CMakeLists.txt:
#   *.cc (not *_test.cc)        -> static library cellar_<module>
#   *_avx2.cc / *_avx512.cc     -> compiled with the matching ISA flags (runtime dispatch
#                                  picks them; nothing else may use these flags)
#   <x>_test.cc                 -> test binary <module>_<x>_test, label `unit`
#   <x>_model_test.cc           -> label `model`  (needs ../shared models; skips without)
#   <x>_slow_test.cc            -> label `slow`
#   <x>_server_test.cc          -> label `server`
set(CELLAR_AVX2_FLAGS -mavx2 -mfma -mf16c -mbmi2)
set(CELLAR_AVX512_FLAGS -mavx2 -mfma -mf16c -mbmi2 -mavx512f -mavx512bw -mavx512vl -mavx512dq
    -mavx512vnni -mavx512bf16 -mavxvnni)

function(cellar_module)
  cmake_parse_arguments(ARG "" "NAME" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB _all CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  set(_srcs "")
  set(_tests "")
  foreach(f ${_all})
    if(f MATCHES "_test\\.cc$")
      list(APPEND _tests ${f})
    else()
      list(APPEND _srcs ${f})
    endif()
    if(f MATCHES "_avx512\\.cc$")
      set_source_files_properties(${f} PROPERTIES COMPILE_OPTIONS "${CELLAR_AVX512_FLAGS}")
    elseif(f MATCHES "_avx2\\.cc$")
      set_source_files_properties(${f} PROPERTIES COMPILE_OPTIONS "${CELLAR_AVX2_FLAGS}")
    endif()
  endforeach()
  if(_srcs)
    cellar_library(NAME ${ARG_NAME} SOURCES ${_srcs} DEPS ${ARG_DEPS})
  else()
    # No sources yet: a header-only (interface) module.
    add_library(cellar_${ARG_NAME} INTERFACE)
    target_include_directories(cellar_${ARG_NAME} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(cellar_${ARG_NAME} INTERFACE ${ARG_DEPS})
  endif()
  foreach(t ${_tests})
    get_filename_component(_base ${t} NAME_WE)
    set(_label unit)
    if(_base MATCHES "_model_test$")
      set(_label model)
    elseif(_base MATCHES "_slow_test$")
      set(_label slow)
    elseif(_base MATCHES "_server_test$")
      set(_label server)
    endif()
    cellar_test(NAME ${ARG_NAME}_${_base} SOURCES ${t}
      DEPS cellar_${ARG_NAME} ${ARG_TEST_DEPS} LABELS ${_label})
  endforeach()
endfunction()
