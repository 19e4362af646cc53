# cimvp as a package: the data layout of the build and install trees, and install(EXPORT) of the
# libraries as cimvp:: targets for find_package(cimvp) (README.md, "Install").

# The application finds models/, configs/ and traces/ at run time (sw/app/data_dir.h). In the build tree,
# next to build/cimvp, share/cimvp links to the source tree's data, so the binary names no source path.
set(_cimvp_data_dirs models configs traces)
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/share/cimvp)
foreach(_d ${_cimvp_data_dirs})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${_d} ${PROJECT_BINARY_DIR}/share/cimvp/${_d} SYMBOLIC)
endforeach()
# The Python scripts `cimvp import` and `cimvp sweep` run (sw/app/python_tool.h): share/cimvp/python.
file(CREATE_LINK ${PROJECT_SOURCE_DIR}/sw/python ${PROJECT_BINARY_DIR}/share/cimvp/python SYMBOLIC)

include(CMakePackageConfigHelpers)
set(CIMVP_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/cimvp)

# Libraries, by the layer they sit in (top CMakeLists.txt): cimvp::arch, cimvp::ref, cimvp::tlm, cimvp::hw,
# cimvp::rtl, cimvp::driver, cimvp::system, cimvp::app; and the tool, cimvp::cimvp.
set(CIMVP_EXPORTED_LIBRARIES cimvp_arch cimvp_ref cimvp_tlm cimvp_hw cimvp_rtl cimvp_driver cimvp_system cimvp_app)
foreach(_t ${CIMVP_EXPORTED_LIBRARIES})
  string(REGEX REPLACE "^cimvp_" "" _name ${_t})
  set_target_properties(${_t} PROPERTIES EXPORT_NAME ${_name})
endforeach()
install(TARGETS ${CIMVP_EXPORTED_LIBRARIES} cimvp EXPORT cimvpTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Headers under include/cimvp, by their path from the top of the source tree, as our sources include them.
foreach(_d hw tlm rtl sw)
  install(DIRECTORY ${_d}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cimvp/${_d}
          FILES_MATCHING PATTERN "*.h" PATTERN "python" EXCLUDE)
endforeach()

foreach(_d ${_cimvp_data_dirs})
  install(DIRECTORY ${_d}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/cimvp/${_d})
endforeach()
install(FILES sw/python/cimvp_import.py sw/python/cimvp_sweep.py DESTINATION ${CMAKE_INSTALL_DATADIR}/cimvp/python)
foreach(_p cimvp_frontend cimvp_scale)
  install(DIRECTORY sw/python/${_p}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/cimvp/python/${_p}
          FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
endforeach()

install(EXPORT cimvpTargets NAMESPACE cimvp:: FILE cimvpTargets.cmake DESTINATION ${CIMVP_INSTALL_CMAKEDIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/cimvpConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/cimvpConfig.cmake
                              INSTALL_DESTINATION ${CIMVP_INSTALL_CMAKEDIR}
                              PATH_VARS CMAKE_INSTALL_DATADIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cimvpConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cimvpConfig.cmake ${PROJECT_BINARY_DIR}/cimvpConfigVersion.cmake
        DESTINATION ${CIMVP_INSTALL_CMAKEDIR})
