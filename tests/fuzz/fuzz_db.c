/*
 * fuzz_db.c - libFuzzer harness for threadlens-top's database loading: the
 * input is the bytes of the database file (a damaged, truncated or forged
 * SQLite file). See viewer_load.h for what is done with it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "viewer_load.h"

static int write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");

    if (!f)
        return -1;
    if (size && fwrite(data, 1, size, f) != size) {
        fclose(f);
        return -1;
    }
    return fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[32];
    static int ready = -1;

    if (ready < 0)
        ready = tl_fuzz_temp_path(path, "fuzzdb");
    if (ready != 0)
        return 0;
    /* WAL and journal files of the previous input must not apply to this one. */
    tl_fuzz_unlink_side_files(path);
    if (write_file(path, data, size) == 0)
        tl_fuzz_view(path);
    return 0;
}
