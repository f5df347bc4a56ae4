/*
 * got_patch.h - interposition for an agent loaded late (threadlens attach).
 *
 * LD_PRELOAD works because the dynamic linker binds every module's imports
 * to the first definition in the global scope. A library dlopen'ed into a
 * running process comes last in that scope and every import is already
 * bound, so the agent rewrites the bindings itself: for each loaded module
 * but the agent, the dynamic linker and the vDSO, each PLT slot (JUMP_SLOT)
 * and GOT slot (GLOB_DAT, which -fno-plt code calls through) whose symbol
 * the agent defines is pointed at the agent's function. Modules the program
 * loads later are patched by the dlopen hook. Every patch is recorded so
 * that detach can put the original address back.
 */
#ifndef TL_GOT_PATCH_H
#define TL_GOT_PATCH_H

/* Patches every loaded module. Returns the number of slots patched, or a negative error. */
int tl_got_patch_all(void);
/* Puts every patched slot back as it was (where nobody changed it since). */
void tl_got_restore_all(void);
/* Slots currently patched (for the attach message and the tests). */
int tl_got_patched_count(void);

#endif
