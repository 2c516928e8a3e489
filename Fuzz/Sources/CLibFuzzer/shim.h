// libFuzzer's driver, for a `main` of our own: SwiftPM names an executable's entry point
// <module>_main and links `main` to it, so libFuzzer's own main cannot be used. The runtime
// (libclang_rt.fuzzer, linked by -sanitize=fuzzer) defines this function.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
