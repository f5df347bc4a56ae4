/*
 * thread_pick.h - choose the thread of a target process to borrow for the
 * injection, and seize it. A thread is unsafe while its stack shows it
 * inside malloc and friends, the dynamic loader, dlopen or pthread_create:
 * the loader thread we start needs the same locks. The main thread is
 * preferred; busy threads are released and retried a bounded number of
 * times. Uses libunwind's ptrace accessors. Tool's only thread; no state.
 */
#ifndef TL_THREAD_PICK_H
#define TL_THREAD_PICK_H

#include <stddef.h>
#include <sys/types.h>

#include "ptrace_call.h"

#define TL_EBUSY (-20003) /* every thread stayed busy; zWhy names where */

int tl_thread_pick(pid_t pid, struct tl_tracee *pOut, char *zWhy, size_t nWhy);

#endif
