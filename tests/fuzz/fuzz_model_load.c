/* libFuzzer target: cartoon_model_load_memory, then (when the bytes load) a context and a
 * cartoon_forward on a 3x5 and a 5x3 image with max_pixels 64, so it stays fast. */
#include "fuzz_entries.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_model_load_one(data, size);
}
