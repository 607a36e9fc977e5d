/* libFuzzer target: ct_convert_tflite into an st_writer, ct_st_writer_serialize, and a load of
 * the result. */
#include "fuzz_entries.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_tflite_one(data, size);
}
