/* libFuzzer target: cartoon_image_decode on arbitrary bytes (seeds: webp files, see
 * tests/fuzz/make_seeds.c). The decoder sniffs the type, so mutations may reach the others. */
#include "fuzz_entries.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_image_one(data, size);
}
