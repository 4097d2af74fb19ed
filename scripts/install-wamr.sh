#!/usr/bin/env bash
# Builds WAMR's command-line runtime `iwasm` (fast interpreter + libc-WASI preview1) from
# sources published on crates.io, and installs it as <target>/bin/iwasm.
#
#   scripts/install-wamr.sh build/runtimes
#
# No registry package ships a current, complete WAMR tree, so two pinned crates are combined:
#   wamrx-sys 0.3.0  vendors WAMR 2.4.3's runtime (core/, build-scripts/), not the CLI;
#   wamr-sys 0.1.1   vendors a Dec 2020 WAMR tree whose product-mini/platforms/linux holds
#                    iwasm's CMakeLists.txt and main.c, which still build against 2.4.3.
# The patch below brings that main.c up to what the 2.x iwasm does for us: the guest's exit
# code becomes iwasm's, --map-dir=<guest>::<host> and --version exist, and the default
# --stack-size is 64 KB.
# Fast JIT, SIMD and AOT are left out: their sources (asmjit, simde, LLVM) would be
# fetched from outside the registries.
set -euo pipefail

target=${1:?usage: install-wamr.sh <target-dir>}
[ -x "$target/bin/iwasm" ] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo_home=${CARGO_HOME:-$HOME/.cargo}

# `cargo info` downloads just the one .crate through whatever registry cargo is set up to
# use (a mirror included), where `cargo fetch` would pull every build dependency too. It
# runs in $work so that no surrounding Cargo workspace pins another version.
fetch() { # name version sha256
  (cd "$work" && cargo info --quiet "$1@$2" >/dev/null)
  local crate
  crate=$(ls "$cargo_home"/registry/cache/*/"$1-$2.crate" | head -n1)
  echo "$3  $crate" | sha256sum -c --quiet
  tar xzf "$crate" -C "$work"
}
fetch wamrx-sys 0.3.0 ab9efc67ebd6c574684794e3a25933c58d2ad3f1b1078830f8c779974132e0d1
fetch wamr-sys 0.1.1 7f8519ccb3c87b57003ea20d6d8ccbf57c8a2999fe1035369a2758b2d80341d0

# The CLI's CMakeLists finds the runtime at ../../.. , so it goes into the 2.4.3 tree.
src=$work/wamrx-sys-0.3.0/wasm-micro-runtime/product-mini/platforms/linux
mkdir -p "${src%/linux}"
cp -r "$work/wamr-sys-0.1.1/wasm-micro-runtime/product-mini/platforms/linux" "$src"
patch -s -p1 -d "$src" <<'PATCH'
--- a/main.c
+++ b/main.c
@@ -31,3 +31,3 @@
 #endif
-    printf("  --stack-size=n         Set maximum stack size in bytes, default is 16 KB\n");
+    printf("  --stack-size=n         Set maximum stack size in bytes, default is 64 KB\n");
     printf("  --heap-size=n          Set maximum heap size in bytes, default is 16 KB\n");
@@ -42,3 +42,6 @@
     printf("                           --dir=<dir1> --dir=<dir2>\n");
+    printf("  --map-dir=<guest::host> Grant wasi access to host directory <host>,\n");
+    printf("                         seen by the program as <guest>\n");
 #endif
+    printf("  --version              Show version information\n");
 #if WASM_ENABLE_MULTI_MODULE != 0
@@ -53,3 +56,3 @@
 
-static void *
+static int
 app_instance_main(wasm_module_inst_t module_inst)
@@ -59,5 +62,7 @@
     wasm_application_execute_main(module_inst, app_argc, app_argv);
-    if ((exception = wasm_runtime_get_exception(module_inst)))
+    if ((exception = wasm_runtime_get_exception(module_inst))) {
         printf("%s\n", exception);
-    return NULL;
+        return 1;
+    }
+    return (int)wasm_runtime_get_wasi_exit_code(module_inst);
 }
@@ -223,3 +228,3 @@
     uint32 wasm_file_size;
-    uint32 stack_size = 16 * 1024, heap_size = 16 * 1024;
+    uint32 stack_size = 64 * 1024, heap_size = 16 * 1024;
     wasm_module_t wasm_module = NULL;
@@ -232,2 +237,3 @@
     bool is_repl_mode = false;
+    int ret = -1;
 #if WASM_ENABLE_LIBC_WASI != 0
@@ -235,2 +241,4 @@
     uint32 dir_list_size = 0;
+    const char *map_dir_list[8] = { NULL };
+    uint32 map_dir_list_size = 0;
     const char *env_list[8] = { NULL };
@@ -280,2 +288,12 @@
         }
+        else if (!strncmp(argv[0], "--map-dir=", 10)) {
+            if (argv[0][10] == '\0')
+                return print_help();
+            if (map_dir_list_size >= sizeof(map_dir_list) / sizeof(char *)) {
+                printf("Only allow max map dir number %d\n",
+                       (int)(sizeof(map_dir_list) / sizeof(char *)));
+                return -1;
+            }
+            map_dir_list[map_dir_list_size++] = argv[0] + 10;
+        }
         else if (!strncmp(argv[0], "--env=", 6)) {
@@ -316,2 +334,8 @@
 #endif
+        else if (!strcmp(argv[0], "--version")) {
+            uint32 major, minor, patch;
+            wasm_runtime_get_version(&major, &minor, &patch);
+            printf("iwasm %u.%u.%u\n", major, minor, patch);
+            return 0;
+        }
         else
@@ -367,3 +391,4 @@
 #if WASM_ENABLE_LIBC_WASI != 0
-    wasm_runtime_set_wasi_args(wasm_module, dir_list, dir_list_size, NULL, 0,
+    wasm_runtime_set_wasi_args(wasm_module, dir_list, dir_list_size,
+                               map_dir_list, map_dir_list_size,
                                env_list, env_list_size, argv, argc);
@@ -379,2 +404,3 @@
 
+    ret = 0;
     if (is_repl_mode)
@@ -384,3 +410,3 @@
     else
-        app_instance_main(wasm_module_inst);
+        ret = app_instance_main(wasm_module_inst);
 
@@ -400,3 +426,3 @@
     wasm_runtime_destroy();
-    return 0;
+    return ret;
 }
PATCH

# The 2020 CMakeLists has no default build type (so no -O2) and predates the 2.x feature
# switches, hence everything explicit. The policy minimum lets CMake >= 4 accept its
# cmake_minimum_required(2.8). Only the iwasm target: the shared libiwasm is not needed.
cmake -S "$src" -B "$src/build" -Wno-dev --no-warn-unused-cli \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
  -DWAMR_BUILD_INTERP=1 -DWAMR_BUILD_FAST_INTERP=1 -DWAMR_BUILD_AOT=0 \
  -DWAMR_BUILD_JIT=0 -DWAMR_BUILD_FAST_JIT=0 -DWAMR_BUILD_SIMD=0 \
  -DWAMR_BUILD_LIBC_WASI=1 -DWAMR_BUILD_LIBC_BUILTIN=1 \
  -DWAMR_BUILD_BULK_MEMORY=1 -DWAMR_BUILD_REF_TYPES=1 >/dev/null
make -C "$src/build" -j2 iwasm >/dev/null
install -D -m755 "$src/build/iwasm" "$target/bin/iwasm"
"$target/bin/iwasm" --version
