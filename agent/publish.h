/*
 * publish.h - the queue from application threads to the collector. A record
 * that changed (a new thread, lock, edge or finding, or new evidence on one)
 * embeds a struct tl_pub and is marked; the collector takes the whole queue
 * once per tick or drain pass and (re)writes each record's row.
 *
 * Lock-free multi-producer, single consumer: producers push with one CAS
 * (only on changes, never per lock operation); the collector swaps the head
 * out. A record is in the queue at most once (`queued`); the collector clears
 * `queued` before it reads the record, so a change racing with the write is
 * queued again and never lost.
 */
#ifndef TL_PUBLISH_H
#define TL_PUBLISH_H

#include <stdatomic.h>
#include <stddef.h>

enum tl_pub_type { TL_PUB_THREAD, TL_PUB_LOCK, TL_PUB_EDGE, TL_PUB_FINDING, TL_PUB_SITE,
                   TL_PUB_TASK /* struct tl_task (task.c): tl_task_write() */ };

struct tl_pub {
    struct tl_pub *next;  /* queue link, valid while queued */
    atomic_int queued;    /* 1 while in the queue */
    int type;             /* enum tl_pub_type, set once */
};

void tl_publish(struct tl_pub *p);
/* Collector: takes every queued record, oldest first. Returns NULL when empty. */
struct tl_pub *tl_publish_take_all(void);
/*
 * Records queued so far, a wrapping count: the collector compares it with
 * the count at its last take to see how much waits, without walking.
 */
unsigned tl_publish_pushes(void);
/* Collector: call before reading the record's fields. */
void tl_publish_done(struct tl_pub *p);
/* Fork child: drop whatever the parent had queued. */
void tl_publish_reset(void);

#define tl_container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#endif
