/*
 * stub_layout.h - the loader block: the data page that `attach` writes into
 * the target and the loader stub (stub_x86_64.S) reads. Offsets are bytes
 * from the block's start; this header is included by C and by the assembler,
 * so it holds #defines only. Written by the tool before the loader thread
 * starts; afterwards the stub writes RESULT, ERRTEXT and DONE (last) and the
 * tool only reads.
 */
#ifndef TL_STUB_LAYOUT_H
#define TL_STUB_LAYOUT_H

#define TL_BLK_DLOPEN 0     /* u64: address of dlopen in the target */
#define TL_BLK_DLSYM 8      /* u64: address of dlsym */
#define TL_BLK_DLERROR 16   /* u64: address of dlerror, 0 when there is none */
#define TL_BLK_FLAGS 24     /* u64: dlopen flags (low 32 bits used) */
#define TL_BLK_RESULT 32    /* i64: what the agent entry returned, or TL_STUB_E* */
#define TL_BLK_DONE 40      /* u64: 1 once the stub has finished */
#define TL_BLK_TID 48       /* u64: pthread_t of the loader thread */
#define TL_BLK_ERRTEXT 256  /* char[TL_BLK_ERRTEXT_MAX]: dlerror() text */
#define TL_BLK_ERRTEXT_MAX 512
#define TL_BLK_NAME 768     /* char[256]: the entry symbol's name */
#define TL_BLK_PATH 1024    /* char[4096]: the agent library's path */
#define TL_BLK_OPTIONS 5120 /* char[TL_BLK_OPTIONS_MAX]: the entry's argument */
#define TL_BLK_OPTIONS_MAX 11264
#define TL_BLK_SIZE 16384   /* data pages; the code page follows */
#define TL_CODE_SIZE 4096

#define TL_STUB_EDLOPEN (-1000) /* dlopen failed; ERRTEXT says why */
#define TL_STUB_EDLSYM (-1001)  /* the entry symbol is missing; ERRTEXT says why */

#endif
