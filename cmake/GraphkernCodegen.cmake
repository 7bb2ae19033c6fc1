# Generated kernels (codegen/gen.py, docs/codegen.md).
#
# Default: the committed generated/ is used; if a Python 3 with Jinja2 is
# found, a custom command regenerates it (in the tree) whenever gen.py, a
# template or the shapes file changes. With -DGRAPHKERN_SHAPES=file and/or
# -DGRAPHKERN_MODELS="a.safetensors;b.safetensors" the kernels are generated
# into the build directory instead (the tree is never edited); that needs
# Python + Jinja2. GRAPHKERN_SHAPES replaces codegen/shapes.toml, so that a
# binary can ship only its own kernels; -DGRAPHKERN_SHAPES_ADD=ON adds it
# to the default set instead. Models add their layers' shapes to whichever
# set that is. Sets GK_GEN_DIR and GK_GEN_SOURCES.
set(GRAPHKERN_SHAPES "" CACHE FILEPATH
    "Shapes file (TOML) for codegen; replaces codegen/shapes.toml")
option(GRAPHKERN_SHAPES_ADD "Add GRAPHKERN_SHAPES to codegen/shapes.toml instead of replacing it" OFF)
set(GRAPHKERN_MODELS "" CACHE STRING "Models (;-separated) whose layers add kernel shapes")

set(GK_CODEGEN ${PROJECT_SOURCE_DIR}/codegen/gen.py)
set(GK_DEFAULT_SHAPES ${PROJECT_SOURCE_DIR}/codegen/shapes.toml)

# A Python 3 that can import jinja2: python3 on PATH first, then the system one.
set(GK_PYTHON "")
foreach(candidate python3 /usr/bin/python3)
  find_program(_gk_py NAMES ${candidate} NO_CACHE)
  if(_gk_py)
    execute_process(COMMAND ${_gk_py} -c "import jinja2, tomllib"
                    RESULT_VARIABLE _gk_rc OUTPUT_QUIET ERROR_QUIET)
    if(_gk_rc EQUAL 0)
      set(GK_PYTHON ${_gk_py})
      break()
    endif()
  endif()
  unset(_gk_py)
endforeach()

set(GK_GEN_ARGS "")
set(GK_GEN_INPUTS ${GK_DEFAULT_SHAPES})
if(GRAPHKERN_SHAPES)
  if(GRAPHKERN_SHAPES_ADD)
    list(APPEND GK_GEN_ARGS --shapes ${GK_DEFAULT_SHAPES})
  endif()
  list(APPEND GK_GEN_ARGS --shapes ${GRAPHKERN_SHAPES})
  list(APPEND GK_GEN_INPUTS ${GRAPHKERN_SHAPES})
endif()
foreach(m ${GRAPHKERN_MODELS})
  list(APPEND GK_GEN_ARGS --model ${m})
  list(APPEND GK_GEN_INPUTS ${m})
endforeach()

if(GRAPHKERN_SHAPES OR GRAPHKERN_MODELS)
  if(NOT GK_PYTHON)
    message(FATAL_ERROR "GRAPHKERN_SHAPES/GRAPHKERN_MODELS need Python >= 3.11 with "
            "Jinja2: apt-get install python3-jinja2 (or pip install jinja2)")
  endif()
  set(GK_GEN_DIR ${PROJECT_BINARY_DIR}/generated)
else()
  set(GK_GEN_DIR ${PROJECT_SOURCE_DIR}/generated)
endif()

if(GK_PYTHON)
  file(GLOB GK_TEMPLATES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/templates/*.j2
       ${PROJECT_SOURCE_DIR}/templates/isa/*.j2)
  # The file list depends on the shapes: ask the generator at configure time,
  # and reconfigure when the inputs change.
  execute_process(COMMAND ${GK_PYTHON} ${GK_CODEGEN} ${GK_GEN_ARGS} --out ${GK_GEN_DIR} --list
                  OUTPUT_VARIABLE _gk_list RESULT_VARIABLE _gk_rc ERROR_VARIABLE _gk_err)
  if(NOT _gk_rc EQUAL 0)
    message(FATAL_ERROR "codegen/gen.py --list failed: ${_gk_err}")
  endif()
  string(STRIP "${_gk_list}" _gk_list)
  string(REPLACE "\n" ";" GK_GEN_FILES "${_gk_list}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${GK_GEN_INPUTS} ${GK_CODEGEN})
  if(NOT EXISTS ${GK_GEN_DIR}/gk_registry.inc)
    execute_process(COMMAND ${GK_PYTHON} ${GK_CODEGEN} ${GK_GEN_ARGS} --out ${GK_GEN_DIR})
  endif()
  add_custom_command(OUTPUT ${GK_GEN_FILES}
    COMMAND ${GK_PYTHON} ${GK_CODEGEN} ${GK_GEN_ARGS} --out ${GK_GEN_DIR}
    DEPENDS ${GK_CODEGEN} ${GK_TEMPLATES} ${GK_GEN_INPUTS}
    COMMENT "Generating kernels (codegen/gen.py)" VERBATIM)
  add_custom_target(graphkern_codegen DEPENDS ${GK_GEN_FILES})
  set(GK_GEN_SOURCES ${GK_GEN_FILES})
  list(FILTER GK_GEN_SOURCES INCLUDE REGEX "\\.c$")
  message(STATUS "graphkern codegen: ${GK_PYTHON} -> ${GK_GEN_DIR}")
else()
  file(GLOB GK_GEN_SOURCES ${GK_GEN_DIR}/*.c)
  message(STATUS "graphkern codegen: no Python 3.11+ with Jinja2; using the committed "
          "generated/ (apt-get install python3-jinja2 to regenerate)")
endif()
