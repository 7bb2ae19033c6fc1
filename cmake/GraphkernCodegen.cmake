# Generated kernels (codegen/gen.py, docs/codegen.md).
#
# Default: the committed generated/ is used; if a Python 3 with Jinja2 is
# found, configuring regenerates it (in the tree), and gen.py, the ISA
# table, the layout rule, a template or the shapes file changing
# reconfigures. With -DGRAPHKERN_SHAPES=file and/or
# -DGRAPHKERN_MODELS="a.safetensors;b.safetensors" the kernels are generated
# into the build directory instead (the tree is never edited); that needs
# Python + Jinja2. GRAPHKERN_SHAPES replaces codegen/shapes.toml, so that a
# binary can ship only its own kernels; -DGRAPHKERN_SHAPES_ADD=ON adds it
# to the default set instead. Models add their layers' shapes to whichever
# set that is. Sets GK_GEN_DIR, GK_GEN_ISAS, GK_GEN_BUILD_ISAS (those this
# build compiles) and GK_GEN_SOURCES_<isa> (from generated/sources.cmake).
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

# Generation runs at configure time (half a second; only changed files are
# written, so unchanged kernels are not rebuilt); editing the shapes, the
# ISA table, the layout rule, a template or gen.py reconfigures.
if(GK_PYTHON)
  file(GLOB GK_TEMPLATES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/templates/*.j2
       ${PROJECT_SOURCE_DIR}/templates/isa/*.j2)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               ${GK_GEN_INPUTS} ${GK_CODEGEN} ${GK_TEMPLATES}
               ${PROJECT_SOURCE_DIR}/codegen/isas.toml ${PROJECT_SOURCE_DIR}/codegen/layout.toml)
  execute_process(COMMAND ${GK_PYTHON} ${GK_CODEGEN} ${GK_GEN_ARGS} --out ${GK_GEN_DIR}
                  RESULT_VARIABLE _gk_rc ERROR_VARIABLE _gk_err)
  if(NOT _gk_rc EQUAL 0)
    message(FATAL_ERROR "codegen/gen.py failed: ${_gk_err}")
  endif()
  message(STATUS "graphkern codegen: ${GK_PYTHON} -> ${GK_GEN_DIR} ${_gk_err}")
else()
  message(STATUS "graphkern codegen: no Python 3.11+ with Jinja2; using the committed "
          "generated/ (apt-get install python3-jinja2 to regenerate)")
endif()

# The generated list (no glob): the ISAs this build compiles are those of
# its target processor's architecture plus portable C (GK_GEN_BUILD_ISAS),
# each with its sources (GK_GEN_SOURCES_<isa>).
include(${GK_GEN_DIR}/sources.cmake)
set(GK_GEN_BUILD_ISAS "")
set(GK_GEN_ARCH "none")
foreach(_gk_isa ${GK_GEN_ISAS})
  set(_gk_arch ${GK_GEN_ISA_ARCH_${_gk_isa}})
  if(_gk_arch STREQUAL "any")
    list(APPEND GK_GEN_BUILD_ISAS ${_gk_isa})
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(${GK_GEN_ARCH_MATCH_${_gk_arch}})$")
    list(APPEND GK_GEN_BUILD_ISAS ${_gk_isa})
    set(GK_GEN_ARCH ${_gk_arch})
  endif()
endforeach()
set(_gk_n 0)
foreach(_gk_isa ${GK_GEN_BUILD_ISAS})
  list(LENGTH GK_GEN_SOURCES_${_gk_isa} _gk_k)
  math(EXPR _gk_n "${_gk_n} + ${_gk_k}")
endforeach()
message(STATUS "graphkern codegen: ${_gk_n} kernel sources for ${CMAKE_SYSTEM_PROCESSOR} "
        "(ISAs: ${GK_GEN_BUILD_ISAS})")
