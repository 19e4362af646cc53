# The hardening builds (docs/hardening.md), selected by the top CMakeLists.txt's options.
#
# CIMVP_SANITIZE: every cimvp target and test built with AddressSanitizer and UndefinedBehaviorSanitizer
# (gcc or clang); the first undefined-behaviour report aborts the process like an ASan report does.
# Debian's libsystemc is not instrumented: what that needs at run time is in scripts/sanitize.sh.
#
# CIMVP_FUZZ: only cimvp_arch, cimvp_ref and the libFuzzer harnesses of testbench/fuzz, with clang:
# the libraries instrumented for coverage (fuzzer-no-link) and the same sanitizers.
if(CIMVP_SANITIZE AND CIMVP_FUZZ)
  message(FATAL_ERROR "CIMVP_SANITIZE and CIMVP_FUZZ are separate builds (build-asan/, build-fuzz/): set one")
endif()
if(CIMVP_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "CIMVP_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++ "
                      "(Debian: apt-get install clang libclang-rt-14-dev), not ${CMAKE_CXX_COMPILER_ID}")
endif()
if(CIMVP_SANITIZE OR CIMVP_FUZZ)
  set(CIMVP_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_compile_options(${CIMVP_SANITIZER_FLAGS})
  add_link_options(-fsanitize=address,undefined)
endif()
if(CIMVP_SANITIZE)
  # Debian's g++ links --as-needed; clang++ does not. A test that links cimvp_app without using SystemC
  # (test_layer_compiler) would then need libsystemc.so, whose sc_main it does not define.
  add_link_options(-Wl,--as-needed)
endif()
if(CIMVP_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# Called by cimvp_target_options for every cimvp target: an executable of the sanitizer build carries
# the sanitizers' run-time options (sw/support/sanitizer_options.cpp).
function(cimvp_hardening_options target)
  get_target_property(_type ${target} TYPE)
  if(CIMVP_SANITIZE AND _type STREQUAL "EXECUTABLE")
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/sw/support/sanitizer_options.cpp)
  endif()
endfunction()
