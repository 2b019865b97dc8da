# Build helpers shared by every module.

# Strict warnings for project code (third-party headers are SYSTEM includes).
set(CELLAR_WARNINGS
    -Wall -Wextra -Wpedantic -Werror -Wshadow=local -Wnon-virtual-dtor
    -Wimplicit-fallthrough -Wno-missing-field-initializers)

set(CELLAR_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)

function(cellar_apply_common target)
  target_compile_options(${target} PRIVATE ${CELLAR_WARNINGS})
  if(CELLAR_SANITIZE)
    target_compile_options(${target} PRIVATE ${CELLAR_SANITIZER_FLAGS})
    target_link_options(${target} PRIVATE ${CELLAR_SANITIZER_FLAGS})
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
