# vcpkg overlay port for pgps, built from this source tree:
#   vcpkg install pgps[xtensor,eigen,tbb] --overlay-ports=<pgps>/ports
# It runs pgps' own install rules, the same ones tests/consumer checks in CI.
set(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../..")

vcpkg_check_features(OUT_FEATURE_OPTIONS feature_options
  FEATURES
    xtensor CMAKE_REQUIRE_FIND_PACKAGE_xtensor
    eigen   CMAKE_REQUIRE_FIND_PACKAGE_Eigen3
    tbb     CMAKE_REQUIRE_FIND_PACKAGE_TBB
  INVERTED_FEATURES
    xtensor CMAKE_DISABLE_FIND_PACKAGE_xtensor
    eigen   CMAKE_DISABLE_FIND_PACKAGE_Eigen3
    tbb     CMAKE_DISABLE_FIND_PACKAGE_TBB)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    ${feature_options}
    -DPGPS_BUILD_TESTS=OFF
    -DPGPS_BUILD_BENCHMARKS=OFF
    -DPGPS_BUILD_EXAMPLES=OFF
    -DCMAKE_DISABLE_FIND_PACKAGE_Torch=ON
    -DCMAKE_DISABLE_FIND_PACKAGE_niftiio=ON)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME pgps CONFIG_PATH share/cmake/pgps)

# Header-only: nothing architecture specific, no debug tree.
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug" "${CURRENT_PACKAGES_DIR}/lib")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
