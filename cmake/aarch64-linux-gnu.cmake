# Cross build for 64-bit ARM Linux with Debian's gcc-aarch64-linux-gnu, the
# arm64 multiarch libraries (libblis-serial-dev:arm64, libjansson-dev:arm64)
# and qemu-user to run the tests:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
#   cmake --build build-arm64 -j2 && (cd build-arm64 && ctest)
# tools/test-arm64.sh installs what it needs and does all three.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
# Executables link statically: Debian 12's qemu-user (7.2) hangs in the
# first pthread_create of a dynamically linked arm64 program (glibc 2.36),
# and a static one needs no arm64 loader at run time.
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)
# CTest runs every test executable through qemu.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
