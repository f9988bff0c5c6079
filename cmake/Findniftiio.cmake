# Finds niftilib's NIfTI-1 I/O library (nifti1_io.h, libniftiio, libznz) and defines the imported
# target niftiio::niftiio. Debian's own NIFTIConfig.cmake points at files the package does not
# ship, so pgps finds the library by hand. Installed with pgps for the pgps::nifti component.
find_path(niftiio_INCLUDE_DIR nifti1_io.h PATH_SUFFIXES nifti)
find_library(niftiio_LIBRARY niftiio)
find_library(niftiio_znz_LIBRARY znz)
find_package(ZLIB QUIET)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(niftiio
  REQUIRED_VARS niftiio_LIBRARY niftiio_znz_LIBRARY niftiio_INCLUDE_DIR ZLIB_FOUND)
if(niftiio_FOUND AND NOT TARGET niftiio::niftiio)
  add_library(niftiio::znz UNKNOWN IMPORTED)
  set_target_properties(niftiio::znz PROPERTIES IMPORTED_LOCATION "${niftiio_znz_LIBRARY}"
    INTERFACE_LINK_LIBRARIES ZLIB::ZLIB)
  add_library(niftiio::niftiio UNKNOWN IMPORTED)
  set_target_properties(niftiio::niftiio PROPERTIES IMPORTED_LOCATION "${niftiio_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${niftiio_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "niftiio::znz;m")
endif()
mark_as_advanced(niftiio_INCLUDE_DIR niftiio_LIBRARY niftiio_znz_LIBRARY)
