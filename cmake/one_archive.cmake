# The installed libgraphkern.a: the library's objects, BLIS and jansson
# linked into one relocatable object whose only global symbols are gk_*,
# archived alone. A consumer then links one archive (plus libm and
# pthread), and BLIS's ~3,600 bli_* symbols, its unprefixed ones
# (get_cpu_name, global_rntm) and jansson's json_* can no longer clash with
# the application's (docs/architecture.md, "The installed archive").
#
# cmake -DCC=<compiler> -DNM=<nm> -DOBJCOPY=<objcopy> -DAR=<ar>
#       -DLIBRARY=<in-tree libgraphkern.a> -DBLIS=<libblis.a> -DJANSSON=<libjansson.a>
#       -DOUT=<archive to write> -P one_archive.cmake
foreach(var CC NM OBJCOPY AR LIBRARY BLIS JANSSON OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "one_archive.cmake: -D${var}=... missing")
  endif()
endforeach()
get_filename_component(dir ${OUT} DIRECTORY)
set(linked ${dir}/graphkern_linked.o)
set(hidden ${dir}/graphkern.o)
set(keep ${dir}/graphkern_exports.txt)
file(MAKE_DIRECTORY ${dir})

# Every object of ours (--whole-archive), and of BLIS and jansson only the
# members they need, as a normal static link would pick them.
execute_process(COMMAND ${CC} -r -nostdlib -o ${linked}
                        -Wl,--whole-archive ${LIBRARY} -Wl,--no-whole-archive ${BLIS} ${JANSSON}
                COMMAND_ERROR_IS_FATAL ANY)

# The symbols to keep global: every gk_* the library itself defines.
execute_process(COMMAND ${NM} -g --defined-only ${LIBRARY}
                OUTPUT_VARIABLE defined COMMAND_ERROR_IS_FATAL ANY)
string(REGEX MATCHALL "[ \t](gk_[A-Za-z0-9_]+)" names "${defined}")
list(TRANSFORM names STRIP)
list(REMOVE_DUPLICATES names)
list(JOIN names "\n" lines)
file(WRITE ${keep} "${lines}\n")

execute_process(COMMAND ${OBJCOPY} --keep-global-symbols=${keep} ${linked} ${hidden}
                COMMAND_ERROR_IS_FATAL ANY)

# Check the promise here too, so that a build never installs a leaky archive.
execute_process(COMMAND ${NM} -g --defined-only ${hidden}
                OUTPUT_VARIABLE exported COMMAND_ERROR_IS_FATAL ANY)
string(REGEX MATCHALL "[ \t][A-Za-z][ \t]+[^\n]+" rows "${exported}")
foreach(row ${rows})
  if(NOT row MATCHES "[ \t]gk_[A-Za-z0-9_]+$")
    message(FATAL_ERROR "one_archive.cmake: ${hidden} exports a non-gk_ symbol:${row}")
  endif()
endforeach()

file(REMOVE ${OUT} ${linked})
execute_process(COMMAND ${AR} rcs ${OUT} ${hidden} COMMAND_ERROR_IS_FATAL ANY)
file(REMOVE ${hidden})
