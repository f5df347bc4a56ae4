/*
 * export_json.c - the --json document:
 *   {"version", "processes": [...], "findings": [{"id", "pid", "kind",
 *    "severity", "summary", "resolved_ns", "threads", "locks", "edges",
 *    "stacks", "items"}], "summary": {"findings", "error", "warning", "info"}}
 * Integers that are NULL in the database are null; addresses and offsets are
 * "0x..." strings, since JSON numbers cannot hold every 64-bit value. A
 * process is {"pid", "ppid", "exe", "exit_status", "end_reason",
 * "attach_ns", "agent"}, the last being what the agent cost in it, from its
 * samples: {"samples", "collector_ns" (their tick_ns summed),
 * "longest_tick_ns", "max_bytes" (the largest agent_bytes)}. A lock
 * object is {"id", "kind", "addr", "name", "wait_ns", "wait_max_ns"}; the
 * wait keys came last so that no earlier key moved. "items"
 * are the finding_item rows in seq order; their "edge" and "stack" are
 * indexes into the finding's "edges" and "stacks", not database ids. A
 * frame is {"function", "module", "offset"}, plus "file" and "line" when the
 * module's debug info knows them (symbolize.c).
 */
#include "export_json.h"

#include "json.h"
#include "symbolize.h"

static void key_int(struct tl_json *j, const char *key, int64_t v)
{
    tl_json_key(j, key);
    if (v == TL_NULL)
        tl_json_null(j);
    else
        tl_json_int(j, v);
}

static void key_hex(struct tl_json *j, const char *key, int64_t v)
{
    tl_json_key(j, key);
    if (v == TL_NULL)
        tl_json_null(j);
    else
        tl_json_hex(j, (uint64_t)v);
}

static void key_str(struct tl_json *j, const char *key, const char *s)
{
    tl_json_key(j, key);
    tl_json_string(j, s);
}

static void put_process(struct tl_json *j, const struct tl_process *p)
{
    tl_json_begin_object(j, true);
    key_int(j, "pid", p->pid);
    key_int(j, "ppid", p->ppid);
    key_str(j, "exe", p->exe);
    key_int(j, "exit_status", p->exit_status);
    key_str(j, "end_reason", p->end_reason);
    key_int(j, "attach_ns", p->attach_ns);
    tl_json_key(j, "agent");
    tl_json_begin_object(j, true);
    key_int(j, "samples", p->samples);
    key_int(j, "collector_ns", p->collector_ns);
    key_int(j, "longest_tick_ns", p->collector_max_ns);
    key_int(j, "max_bytes", p->agent_max_bytes);
    tl_json_end_object(j);
    tl_json_end_object(j);
}

static void put_threads(struct tl_json *j, const struct tl_vec *threads)
{
    tl_json_key(j, "threads");
    tl_json_begin_array(j, false);
    for (size_t i = 0; i < threads->len; i++) {
        const struct tl_fthread *t = tl_vec_at(threads, i);

        tl_json_begin_object(j, true);
        key_int(j, "id", t->id);
        key_int(j, "tid", t->tid);
        key_str(j, "name", t->name);
        key_str(j, "detail", t->detail);
        tl_json_end_object(j);
    }
    tl_json_end_array(j);
}

static void put_locks(struct tl_json *j, const struct tl_vec *locks)
{
    tl_json_key(j, "locks");
    tl_json_begin_array(j, false);
    for (size_t i = 0; i < locks->len; i++) {
        const struct tl_flock *k = tl_vec_at(locks, i);

        tl_json_begin_object(j, true);
        key_int(j, "id", k->id);
        key_str(j, "kind", k->kind);
        key_hex(j, "addr", k->addr);
        key_str(j, "name", k->name);
        key_int(j, "wait_ns", k->wait_ns); /* appended last: earlier keys keep their order */
        key_int(j, "wait_max_ns", k->wait_max_ns);
        tl_json_end_object(j);
    }
    tl_json_end_array(j);
}

static void put_edges(struct tl_json *j, const struct tl_vec *edges)
{
    tl_json_key(j, "edges");
    tl_json_begin_array(j, false);
    for (size_t i = 0; i < edges->len; i++) {
        const struct tl_fedge *e = tl_vec_at(edges, i);

        tl_json_begin_object(j, true);
        key_int(j, "from", e->from);
        key_int(j, "to", e->to);
        key_int(j, "thread", e->thread);
        key_int(j, "threads", e->threads);
        key_str(j, "modes", e->modes);
        key_int(j, "gate_lock", e->gate_lock);
        tl_json_end_object(j);
    }
    tl_json_end_array(j);
}

static void put_frames(struct tl_json *j, const struct tl_vec *frames)
{
    tl_json_key(j, "frames");
    tl_json_begin_array(j, false);
    for (size_t i = 0; i < frames->len; i++) {
        const struct tl_frame *fr = tl_vec_at(frames, i);
        const char *file;
        unsigned line;

        tl_json_begin_object(j, true);
        key_str(j, "function", fr->function);
        key_str(j, "module", fr->module);
        key_hex(j, "offset", fr->offset);
        if (tl_symbolize(fr->module, fr->offset, &file, &line) == 0) {
            key_str(j, "file", file); /* only when known: older consumers see no change */
            key_int(j, "line", line);
        }
        tl_json_end_object(j);
    }
    tl_json_end_array(j);
}

static void put_stacks(struct tl_json *j, const struct tl_vec *stacks)
{
    tl_json_key(j, "stacks");
    tl_json_begin_array(j, false);
    for (size_t i = 0; i < stacks->len; i++) {
        const struct tl_stack *s = tl_vec_at(stacks, i);

        tl_json_begin_object(j, false);
        key_str(j, "role", s->role);
        key_int(j, "thread", s->thread);
        key_int(j, "lock", s->lock);
        key_int(j, "edge", s->edge);
        put_frames(j, &s->frames);
        tl_json_end_object(j);
    }
    tl_json_end_array(j);
}

static void put_items(struct tl_json *j, const struct tl_vec *items)
{
    tl_json_key(j, "items");
    tl_json_begin_array(j, false);
    for (size_t i = 0; i < items->len; i++) {
        const struct tl_fitem *it = tl_vec_at(items, i);

        tl_json_begin_object(j, true);
        key_str(j, "role", it->role);
        key_int(j, "thread", it->thread);
        key_int(j, "lock", it->lock);
        key_int(j, "edge", it->edge);
        key_int(j, "stack", it->stack);
        key_str(j, "detail", it->detail);
        tl_json_end_object(j);
    }
    tl_json_end_array(j);
}

static void put_finding(struct tl_json *j, const struct tl_finding *f)
{
    tl_json_begin_object(j, false);
    key_int(j, "id", f->id);
    key_int(j, "pid", f->pid);
    key_str(j, "kind", f->kind);
    key_str(j, "severity", f->severity);
    key_str(j, "summary", f->summary);
    key_int(j, "resolved_ns", f->resolved_ns);
    put_threads(j, &f->threads);
    put_locks(j, &f->locks);
    put_edges(j, &f->edges);
    put_stacks(j, &f->stacks);
    put_items(j, &f->items);
    tl_json_key(j, "suppressed");
    tl_json_bool(j, f->suppressed);
    tl_json_end_object(j);
}

static void put_summary(struct tl_json *j, const struct tl_run *run)
{
    tl_json_key(j, "summary");
    tl_json_begin_object(j, true);
    key_int(j, "findings", (int64_t)run->findings.len);
    key_int(j, "error", (int64_t)run->n_error);
    key_int(j, "warning", (int64_t)run->n_warning);
    key_int(j, "info", (int64_t)run->n_info);
    key_int(j, "suppressed", (int64_t)run->n_suppressed);
    tl_json_end_object(j);
}

/* Writes run to out as one JSON document. Write errors stay in out's ferror(). */
void tl_export_json(FILE *out, const struct tl_run *run)
{
    struct tl_json j;

    tl_json_init(&j, out);
    tl_json_begin_object(&j, false);
    key_int(&j, "version", TL_JSON_FORMAT_VERSION);
    tl_json_key(&j, "processes");
    tl_json_begin_array(&j, false);
    for (size_t i = 0; i < run->processes.len; i++)
        put_process(&j, tl_vec_at(&run->processes, i));
    tl_json_end_array(&j);
    tl_json_key(&j, "findings");
    tl_json_begin_array(&j, false);
    for (size_t i = 0; i < run->findings.len; i++)
        put_finding(&j, tl_vec_at(&run->findings, i));
    tl_json_end_array(&j);
    put_summary(&j, run);
    tl_json_end_object(&j);
    tl_json_finish(&j);
}
