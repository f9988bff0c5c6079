# Helpers for pgps' own build. Not installed.

# pgps_add_component(<name> PACKAGE <find_package arguments...> LINK <targets...>)
# Creates the interface target pgps_<name> (alias pgps::<name>) when the package is found, and
# records the component and its find_package arguments for pgpsConfig.cmake.
function(pgps_add_component name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "PACKAGE;LINK")
  find_package(${arg_PACKAGE} QUIET)
  list(GET arg_PACKAGE 0 package)
  if(NOT ${package}_FOUND)
    message(STATUS "pgps: ${package} not found; pgps::${name} is not available")
    return()
  endif()
  add_library(pgps_${name} INTERFACE)
  add_library(pgps::${name} ALIAS pgps_${name})
  set_target_properties(pgps_${name} PROPERTIES EXPORT_NAME ${name})
  target_link_libraries(pgps_${name} INTERFACE pgps ${arg_LINK})
  set(PGPS_COMPONENTS ${PGPS_COMPONENTS} ${name} PARENT_SCOPE)
  string(REPLACE ";" " " find_args "${arg_PACKAGE}")
  set_property(GLOBAL APPEND_STRING PROPERTY PGPS_COMPONENT_FINDS "set(_pgps_find_${name} ${find_args})\n")
endfunction()

# pgps_warnings(<target>) turns on the warnings pgps' own code is kept clean of.
function(pgps_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion>)
    if(PGPS_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
    endif()
  endif()
endfunction()
