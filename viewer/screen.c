/*
 * screen.c - helpers shared by the screens (screen.h): number formats,
 * stacks as text, process status lines.
 */
#include "screen.h"

#include <inttypes.h>
#include <string.h>

#include "schema.h"

/* "512 B", "1.5 KiB", "3.2 MiB", "1.1 GiB". */
void tl_fmt_bytes(char *buf, size_t len, double bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = bytes < 0 ? -bytes : bytes;
    size_t u = 0;

    while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%s%.0f B", bytes < 0 ? "-" : "", v);
    else
        snprintf(buf, len, "%s%.1f %s", bytes < 0 ? "-" : "", v, units[u]);
}

/* "850 ms", "12.3 s", "4m05s", "2h03m"; "-" for a negative time. */
void tl_fmt_duration(char *buf, size_t len, int64_t ns)
{
    int64_t s = ns / 1000000000;

    if (ns < 0)
        snprintf(buf, len, "-");
    else if (ns < 1000000000)
        snprintf(buf, len, "%" PRId64 " ms", ns / 1000000);
    else if (s < 60)
        snprintf(buf, len, "%.1f s", (double)ns / 1e9);
    else if (s < 3600)
        snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else
        snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", s / 3600, s / 60 % 60);
}

/*
 * A lock wait, compact as Go prints durations: "0", "850ns", "12.5µs"
 * ("12.5us" when !utf8), "3.2ms", "1.25s". "-" for a negative time.
 */
void tl_fmt_wait(char *buf, size_t len, int64_t ns, bool utf8)
{
    if (ns < 0)
        snprintf(buf, len, "-");
    else if (ns == 0)
        snprintf(buf, len, "0");
    else if (ns < 1000)
        snprintf(buf, len, "%" PRId64 "ns", ns);
    else if (ns < 999950) /* not "1000.0µs" */
        snprintf(buf, len, "%.1f%s", (double)ns / 1e3, utf8 ? "\xc2\xb5s" : "us");
    else if (ns < 999950000)
        snprintf(buf, len, "%.1fms", (double)ns / 1e6);
    else
        snprintf(buf, len, "%.2fs", (double)ns / 1e9);
}

/* "1234/s", "12.5k/s", "-" when unknown (negative). */
void tl_fmt_rate(char *buf, size_t len, double v)
{
    if (v < 0)
        snprintf(buf, len, "-");
    else if (v >= 10000)
        snprintf(buf, len, "%.1fk/s", v / 1000);
    else
        snprintf(buf, len, "%.0f/s", v);
}

enum tl_sev tl_screen_sev(const char *severity)
{
    if (!severity)
        return TL_SEV_NONE;
    if (strcmp(severity, TL_SEV_ERROR) == 0)
        return TL_SEV_ERR;
    if (strcmp(severity, TL_SEV_WARNING) == 0)
        return TL_SEV_WARN;
    if (strcmp(severity, TL_SEV_INFO) == 0)
        return TL_SEV_INFO_;
    return TL_SEV_NONE;
}

static const char *base(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;

    return slash ? slash + 1 : path;
}

/* "#0 function module+0xOFFSET" per frame, as --report prints them. */
void tl_screen_put_frames(FILE *out, const struct tl_vec *frames, const char *indent)
{
    if (frames->len == 0) {
        fprintf(out, "%s(no stack recorded)\n", indent);
        return;
    }
    for (size_t i = 0; i < frames->len; i++) {
        const struct tl_frame *fr = tl_vec_at(frames, i);

        fprintf(out, "%s#%zu %s %s", indent, i, fr->function ? fr->function : "??",
                fr->module ? base(fr->module) : "??");
        if (fr->offset != TL_NULL)
            fprintf(out, "+0x%" PRIx64, (uint64_t)fr->offset);
        fputc('\n', out);
    }
}

/* Reads stack `stack` and writes its frames; says so when it cannot. */
void tl_screen_put_stack(FILE *out, const struct tl_env *env, int64_t stack, const char *indent)
{
    struct tl_vec frames;

    tl_vec_init(&frames, sizeof(struct tl_frame));
    if (tl_model_frames(env->db, stack, &frames) != 0)
        fprintf(out, "%s(cannot read the stack: %s)\n", indent, tl_db_error(env->db));
    else
        tl_screen_put_frames(out, &frames, indent);
    tl_model_frames_free(&frames);
}

/* "pid 1234 running, up 3.2 s: /usr/bin/prog" or "pid 1234 exited with status 0, ran ...". */
void tl_screen_put_process(FILE *out, const struct tl_mproc *p, const struct tl_env *env)
{
    char up[32];
    int64_t end = p->end_ns != TL_NULL ? p->end_ns : env->now_ns;

    tl_fmt_duration(up, sizeof(up), p->start_ns == TL_NULL ? -1 : end - p->start_ns);
    fprintf(out, "pid %" PRId64 " ", p->pid);
    if (p->end_ns == TL_NULL)
        fputs("running", out);
    else if (p->exit_status == TL_NULL)
        fprintf(out, "ended (%s)", p->end_reason ? p->end_reason : "?");
    else if (!p->end_reason || strcmp(p->end_reason, "exit") == 0)
        fprintf(out, "exited with status %" PRId64, p->exit_status);
    else
        fprintf(out, "ended with status %" PRId64 " (%s)", p->exit_status, p->end_reason);
    fprintf(out, ", %s %s: %s", p->end_ns == TL_NULL ? "up" : "ran", up,
            p->exe ? p->exe : "?");
}

/* A row id unique across processes. */
int64_t tl_screen_row_id(int64_t proc, int64_t id)
{
    return (int64_t)((uint64_t)proc << 32 | ((uint64_t)id & 0xffffffffu));
}
