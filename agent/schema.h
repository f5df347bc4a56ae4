/*
 * schema.h - the threadlens database: table definitions, views, finding kinds
 * and the schema version. The public interface between the agent (which
 * writes) and threadlens-top or any SQLite client (which read). This is the
 * only agent header the viewer includes. Plain constants, no state.
 *
 * Changing a table or a view means bumping TL_SCHEMA_VERSION (stored as
 * PRAGMA user_version) and documenting it in the README.
 */
#ifndef TL_SCHEMA_H
#define TL_SCHEMA_H

#define TL_SCHEMA_VERSION 5
#define TL_SCHEMA_APP "threadlens" /* meta.value for key 'app' */

/* Finding kinds: the exact strings of the JSON output and the database. */
#define TL_KIND_LOCK_ORDER "lock-order-inversion"
#define TL_KIND_DEADLOCK "deadlock"
#define TL_KIND_LOCK_MISUSE "lock-misuse"
#define TL_KIND_THREAD_LEAK "thread-leak"
#define TL_KIND_BLOCKED "blocked-thread"
#define TL_KIND_THREAD_GROWTH "thread-growth"
#define TL_KIND_TASK_LEAK "task-leak"
#define TL_KIND_TASK_GROWTH "task-growth"
#define TL_KIND_MEMORY_GROWTH "memory-growth"
#define TL_KIND_MEMORY_LEAK "memory-leak"
#define TL_KIND_LIMIT "limit-exceeded"

#define TL_SEV_ERROR "error"
#define TL_SEV_WARNING "warning"
#define TL_SEV_INFO "info"

/*
 * Times are nanoseconds since the Unix epoch (CLOCK_REALTIME). `proc` columns
 * reference process.id; a thread or lock id is unique within its process.
 * Stacks are shared by every process of the run and deduplicated by the hash
 * of their (module, offset) frames, so they are stable under ASLR.
 */
#define TL_SCHEMA_SQL \
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);\n" \
    "CREATE TABLE IF NOT EXISTS process(\n" \
    "  id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, ppid INTEGER,\n" \
    "  exe TEXT, cmdline TEXT, start_ns INTEGER, end_ns INTEGER,\n" \
    "  exit_status INTEGER, end_reason TEXT, attach_ns INTEGER);\n" \
    "CREATE TABLE IF NOT EXISTS sample(\n" \
    "  proc INTEGER NOT NULL, t_ns INTEGER NOT NULL, threads_live INTEGER,\n" \
    "  threads_total INTEGER, locks INTEGER, lock_edges INTEGER,\n" \
    "  acquisitions INTEGER, contentions INTEGER, tick_ns INTEGER,\n" \
    "  heap_live_bytes INTEGER, heap_live_count INTEGER,\n" \
    "  heap_alloc_bytes INTEGER, heap_free_bytes INTEGER,\n" \
    "  heap_alloc_count INTEGER, heap_free_count INTEGER,\n" \
    "  rss_bytes INTEGER, fds INTEGER, ctx_voluntary INTEGER,\n" \
    "  ctx_involuntary INTEGER, os_threads INTEGER,\n" \
    "  tasks_in_flight INTEGER, tasks_queued INTEGER, tasks_total INTEGER,\n" \
    "  agent_bytes INTEGER);\n" \
    "CREATE TABLE IF NOT EXISTS alloc_site(\n" \
    "  proc INTEGER NOT NULL, id INTEGER NOT NULL, stack INTEGER,\n" \
    "  function TEXT, first_ns INTEGER, PRIMARY KEY(proc, id));\n" \
    "CREATE TABLE IF NOT EXISTS site_sample(\n" \
    "  proc INTEGER NOT NULL, site INTEGER NOT NULL, t_ns INTEGER NOT NULL,\n" \
    "  live_bytes INTEGER, live_count INTEGER, alloc_bytes INTEGER);\n" \
    "CREATE TABLE IF NOT EXISTS task(\n" \
    "  proc INTEGER NOT NULL, id INTEGER NOT NULL, name TEXT,\n" \
    "  queued_ns INTEGER, started_ns INTEGER, ended_ns INTEGER,\n" \
    "  submit_thread INTEGER, run_thread INTEGER, submit_stack INTEGER,\n" \
    "  PRIMARY KEY(proc, id));\n" \
    "CREATE TABLE IF NOT EXISTS stack(\n" \
    "  id INTEGER PRIMARY KEY, hash INTEGER NOT NULL UNIQUE, depth INTEGER);\n" \
    "CREATE TABLE IF NOT EXISTS frame(\n" \
    "  stack INTEGER NOT NULL, idx INTEGER NOT NULL, module TEXT,\n" \
    "  offset INTEGER, function TEXT, PRIMARY KEY(stack, idx));\n" \
    "CREATE TABLE IF NOT EXISTS thread(\n" \
    "  proc INTEGER NOT NULL, id INTEGER NOT NULL, tid INTEGER, name TEXT,\n" \
    "  creator INTEGER, create_stack INTEGER, start_ns INTEGER,\n" \
    "  end_ns INTEGER, end_how TEXT, PRIMARY KEY(proc, id));\n" \
    "CREATE TABLE IF NOT EXISTS thread_state(\n" \
    "  proc INTEGER NOT NULL, thread INTEGER NOT NULL, t_ns INTEGER,\n" \
    "  wait_kind TEXT, wait_object INTEGER, wait_lock INTEGER,\n" \
    "  wait_since_ns INTEGER, wait_stack INTEGER, held TEXT,\n" \
    "  PRIMARY KEY(proc, thread));\n" \
    "CREATE TABLE IF NOT EXISTS thread_event(\n" \
    "  proc INTEGER NOT NULL, thread INTEGER NOT NULL, t_ns INTEGER,\n" \
    "  event TEXT, other INTEGER);\n" \
    "CREATE TABLE IF NOT EXISTS lock(\n" \
    "  proc INTEGER NOT NULL, id INTEGER NOT NULL, addr INTEGER, kind TEXT,\n" \
    "  name TEXT, first_stack INTEGER, first_thread INTEGER,\n" \
    "  created_ns INTEGER, destroyed_ns INTEGER, acquisitions INTEGER,\n" \
    "  contentions INTEGER, wait_ns INTEGER, wait_max_ns INTEGER,\n" \
    "  PRIMARY KEY(proc, id));\n" \
    "CREATE TABLE IF NOT EXISTS lock_edge(\n" \
    "  proc INTEGER NOT NULL, id INTEGER NOT NULL, from_lock INTEGER,\n" \
    "  to_lock INTEGER, thread INTEGER, held_stack INTEGER,\n" \
    "  acquire_stack INTEGER, first_ns INTEGER, threads INTEGER,\n" \
    "  gate_lock INTEGER, modes TEXT, PRIMARY KEY(proc, id));\n" \
    "CREATE TABLE IF NOT EXISTS finding(\n" \
    "  id INTEGER PRIMARY KEY, proc INTEGER NOT NULL, kind TEXT NOT NULL,\n" \
    "  severity TEXT NOT NULL, summary TEXT NOT NULL, t_ns INTEGER,\n" \
    "  resolved_ns INTEGER, suppressed INTEGER NOT NULL DEFAULT 0);\n" \
    "CREATE TABLE IF NOT EXISTS finding_item(\n" \
    "  finding INTEGER NOT NULL, seq INTEGER NOT NULL, role TEXT NOT NULL,\n" \
    "  thread INTEGER, lock INTEGER, edge INTEGER, stack INTEGER,\n" \
    "  detail TEXT, PRIMARY KEY(finding, seq));\n" \
    "CREATE VIEW IF NOT EXISTS findings AS\n" \
    "  SELECT f.id, p.pid, f.kind, f.severity, f.summary, f.t_ns, f.resolved_ns,\n" \
    "         f.suppressed\n" \
    "  FROM finding f JOIN process p ON p.id = f.proc;\n" \
    "CREATE VIEW IF NOT EXISTS threads AS\n" \
    "  SELECT p.pid, t.id, t.tid, t.name, c.tid AS creator_tid, t.start_ns,\n" \
    "         t.end_ns, t.end_how\n" \
    "  FROM thread t JOIN process p ON p.id = t.proc\n" \
    "  LEFT JOIN thread c ON c.proc = t.proc AND c.id = t.creator;\n" \
    "CREATE VIEW IF NOT EXISTS alloc_sites AS\n" \
    "  SELECT p.pid, a.id, a.function, a.stack,\n" \
    "         (SELECT live_bytes FROM site_sample s WHERE s.proc = a.proc\n" \
    "          AND s.site = a.id ORDER BY t_ns DESC LIMIT 1) AS live_bytes,\n" \
    "         (SELECT live_count FROM site_sample s WHERE s.proc = a.proc\n" \
    "          AND s.site = a.id ORDER BY t_ns DESC LIMIT 1) AS live_count\n" \
    "  FROM alloc_site a JOIN process p ON p.id = a.proc;\n" \
    "CREATE VIEW IF NOT EXISTS tasks AS\n" \
    "  SELECT p.pid, t.id, t.name, t.queued_ns, t.started_ns, t.ended_ns,\n" \
    "         t.started_ns - t.queued_ns AS queue_wait_ns,\n" \
    "         t.ended_ns - t.started_ns AS run_ns, t.run_thread\n" \
    "  FROM task t JOIN process p ON p.id = t.proc;\n" \
    "CREATE VIEW IF NOT EXISTS lock_edges AS\n" \
    "  SELECT p.pid, e.id, a.kind AS from_kind,\n" \
    "         coalesce(a.name, printf('0x%x', a.addr)) AS from_lock,\n" \
    "         b.kind AS to_kind,\n" \
    "         coalesce(b.name, printf('0x%x', b.addr)) AS to_lock,\n" \
    "         t.tid, e.threads, e.modes, e.held_stack, e.acquire_stack\n" \
    "  FROM lock_edge e JOIN process p ON p.id = e.proc\n" \
    "  JOIN lock a ON a.proc = e.proc AND a.id = e.from_lock\n" \
    "  JOIN lock b ON b.proc = e.proc AND b.id = e.to_lock\n" \
    "  LEFT JOIN thread t ON t.proc = e.proc AND t.id = e.thread;\n"

#define TL_SCHEMA_STR_(x) #x
#define TL_SCHEMA_STR(x) TL_SCHEMA_STR_(x)

/*
 * A new database of ours, whole: the schema, meta's 'app' row and the
 * version. The agent's build-time image (schema_image_gen.c) and an empty
 * file the agent finds (store.c) are both made with it.
 */
#define TL_SCHEMA_CREATE_SQL \
    TL_SCHEMA_SQL \
    "INSERT OR IGNORE INTO meta(key, value) VALUES('app', '" TL_SCHEMA_APP "');\n" \
    "PRAGMA user_version=" TL_SCHEMA_STR(TL_SCHEMA_VERSION) ";\n"

#endif
