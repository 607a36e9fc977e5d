/* Status codes' names and texts, and the library version: the public face of errors. */
#include "cartoon.h"

static const struct { const char *name, *text; } status_table[] = {
    [CARTOON_OK] = {"CARTOON_OK", "success"},
    [CARTOON_E_INVALID_ARGUMENT] = {"CARTOON_E_INVALID_ARGUMENT", "invalid argument"},
    [CARTOON_E_OUT_OF_MEMORY] = {"CARTOON_E_OUT_OF_MEMORY", "out of memory"},
    [CARTOON_E_IO] = {"CARTOON_E_IO", "file input/output error"},
    [CARTOON_E_BAD_MODEL] = {"CARTOON_E_BAD_MODEL", "malformed or inconsistent model file"},
    [CARTOON_E_UNSUPPORTED] = {"CARTOON_E_UNSUPPORTED", "unsupported model feature or version"},
    [CARTOON_E_BAD_IMAGE] = {"CARTOON_E_BAD_IMAGE", "truncated, corrupt or unknown image data"},
    [CARTOON_E_LIMIT] = {"CARTOON_E_LIMIT", "input exceeds a configured limit"},
    [CARTOON_E_DEVICE] = {"CARTOON_E_DEVICE", "requested device unavailable or failed"},
    [CARTOON_E_INTERNAL] = {"CARTOON_E_INTERNAL", "internal error (a bug)"},
};

const char *cartoon_strerror(cartoon_status s)
{
    if ((unsigned)s < sizeof status_table / sizeof status_table[0]) return status_table[s].text;
    return "unknown status code";
}

const char *cartoon_status_name(cartoon_status s)
{
    if ((unsigned)s < sizeof status_table / sizeof status_table[0]) return status_table[s].name;
    return "CARTOON_E_UNKNOWN";
}

unsigned cartoon_version_number(void) { return CARTOON_VERSION_NUMBER; }
const char *cartoon_version_string(void) { return CARTOON_VERSION_STRING; }
