/* The presets of cartoon.h: the seed article's use cases. The table is the one place the
 * values live; the CLI and the web server read it from here. The quick ones prefer the
 * built-in student model, which trades some fidelity to the White-box model for speed. */
#include <string.h>
#include "cartoon.h"

static const cartoon_preset presets[] = {
    {"preview", 512, 0.5f, "jpg", 85, "quick look: small, fast, a light cartoon", 1},
    {"social", 1024, 0.7f, "webp", 90, "sharing online: good size, moderate file", 0},
    {"print", 2048, 0.9f, "png", 100, "printing: large, lossless", 0},
    {"low-end", 512, 0.6f, "jpg", 85, "slow or small machines: least time and memory", 1},
};

const cartoon_preset *cartoon_presets(int *count)
{
    if (count) *count = (int)(sizeof presets / sizeof presets[0]);
    return presets;
}

const cartoon_preset *cartoon_preset_find(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(presets[i].name, name)) return &presets[i];
    return NULL;
}
