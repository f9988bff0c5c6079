# cmake -DPLAN=<pgps-plan> -DWORK_DIR=<dir> -P check_plan_tool.cmake
# Runs pgps-plan on the paper's example and on bad input; parses the JSON with string(JSON).
cmake_minimum_required(VERSION 3.22)

function(run_plan out_var rc_var err_var)
  execute_process(COMMAND "${PLAN}" ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${rc_var} "${rc}" PARENT_SCOPE)
  set(${err_var} "${err}" PARENT_SCOPE)
endfunction()

function(expect what actual expected)
  if(NOT "${actual}" STREQUAL "${expected}")
    message(FATAL_ERROR "${what}: expected '${expected}', got '${actual}'")
  endif()
endfunction()

# The paper's example, performance mode: 10 stages of 100 epochs, batches 128 ... 2.
run_plan(json rc err --patch 128,128,128 --pool 5,5,5 --batch 2 --epochs 1000 --iterations 250
         --mode performance --format json --plot "${WORK_DIR}/plan_tool_check.svg")
expect("exit code" "${rc}" "0")
string(JSON count LENGTH "${json}" stages)
expect("stage count" "${count}" "10")
set(batches "")
set(patches "")
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  string(JSON batch GET "${json}" stages ${i} batch)
  string(JSON first GET "${json}" stages ${i} first_epoch)
  string(JSON epochs GET "${json}" stages ${i} epochs)
  string(JSON z GET "${json}" stages ${i} patch 0)
  string(JSON y GET "${json}" stages ${i} patch 1)
  string(JSON x GET "${json}" stages ${i} patch 2)
  list(APPEND batches ${batch})
  list(APPEND patches "${z}x${y}x${x}")
  math(EXPR expected_first "${i} * 100")
  expect("stage ${i} first epoch" "${first}" "${expected_first}")
  expect("stage ${i} epochs" "${epochs}" "100")
endforeach()
expect("batches" "${batches}" "128;64;32;16;10;7;4;3;2;2")
expect("patches" "${patches}"
  "32x32x32;64x32x32;64x64x32;64x64x64;96x64x64;96x96x64;96x96x96;128x96x96;128x128x96;128x128x128")
string(JSON fraction GET "${json}" voxel_fraction)
if(NOT fraction MATCHES "^0\\.9359")
  message(FATAL_ERROR "performance voxel fraction: expected 0.9359375, got ${fraction}")
endif()
file(READ "${WORK_DIR}/plan_tool_check.svg" svg)
if(NOT svg MATCHES "<svg" OR NOT svg MATCHES "</svg>" OR NOT svg MATCHES "batch size" OR NOT svg MATCHES "93\\.6%")
  message(FATAL_ERROR "the SVG plot lacks its frame, legend or the 93.6% label")
endif()

# Efficiency mode: same stages, batch 2, voxel fraction 0.34375.
run_plan(json rc err --patch 128,128,128 --pool 5,5,5 --mode efficiency --format json)
string(JSON fraction GET "${json}" voxel_fraction)
expect("efficiency voxel fraction" "${fraction}" "0.34375")

# CSV has a header and one row per stage.
run_plan(csv rc err --patch 80,192,160 --pool 4,5,5 --mode performance --format csv)
string(REGEX MATCHALL "\n" lines "${csv}")
list(LENGTH lines line_count)
expect("CSV lines (header + 14 stages)" "${line_count}" "15")
if(NOT csv MATCHES "\n0,16,32,32,300,0,71,")
  message(FATAL_ERROR "CSV first stage: expected 0,16,32,32,300,0,71,... in\n${csv}")
endif()

# Bad input: non-zero exit and a message that names the value.
function(expect_error expected_regex)
  run_plan(out rc err ${ARGN})
  if(rc EQUAL 0)
    message(FATAL_ERROR "pgps-plan ${ARGN}: expected a non-zero exit")
  endif()
  if(NOT err MATCHES "^pgps-plan: error: ${expected_regex}")
    message(FATAL_ERROR "pgps-plan ${ARGN}: expected an error matching '${expected_regex}', got '${err}'")
  endif()
endfunction()
expect_error("--patch '12,a,3': 'a' on axis y is not an integer" --patch 12,a,3 --pool 1,1,1)
expect_error("--pool '1,2' has 2 values" --patch 128,128,128 --pool 1,2)
expect_error("target patch \\[0, 64, 64\\] has 0 voxels on axis z" --patch 0,64,64 --pool 1,1,1)
expect_error("pooling 5 on axis z gives a smallest patch of 32 voxels, larger than the target 28"
             --patch 28,256,224 --pool 5,6,6)
expect_error("total epochs 9 are fewer than the 10 stages" --patch 128,128,128 --pool 5,5,5 --epochs 9)
expect_error("unknown mode 'fast'; allowed: efficiency, performance, plus, random, ramp, constant"
             --patch 128,128,128 --pool 5,5,5 --mode fast)
expect_error("batch size -2 must be >= 1" --patch 128,128,128 --pool 5,5,5 --batch -2)
