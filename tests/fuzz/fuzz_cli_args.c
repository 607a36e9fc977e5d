/* libFuzzer target: cartoonize's argument parser (examples/cartoonize_args.c). The input is
 * split at NUL bytes into argv[1..]; messages go to /dev/null. */
#include "fuzz_cli_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_cli_args_one(data, size);
}
