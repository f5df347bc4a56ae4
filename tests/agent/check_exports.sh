#!/usr/bin/env bash
# check_exports.sh LIB - the agent exports only interposed libc names and threadlens_*.
# Anything else leaking out of libthreadlens.so could interpose on the program by accident.
set -euo pipefail
lib=$1
allowed='^(pthread_[a-z_]+|sem_[a-z]+|malloc|calloc|realloc|reallocarray|free|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|malloc_usable_size|thrd_[a-z]+|mtx_[a-z]+|cnd_[a-z]+|exec[lvpe]*|fexecve|exit|_exit|__libc_start_main|threadlens_[a-z_]+)$'
exports=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//')
[ -n "$exports" ] || { echo "no exported symbols in $lib"; exit 1; }
bad=$(printf '%s\n' "$exports" | grep -Ev "$allowed" || true)
if [ -n "$bad" ]; then
    echo "unexpected exports from $lib:"
    printf '  %s\n' $bad
    exit 1
fi
for need in pthread_mutex_lock pthread_mutex_unlock pthread_create mtx_lock thrd_create; do
    printf '%s\n' "$exports" | grep -qx "$need" || { echo "missing interposer: $need"; exit 1; }
done
echo "exports ok: $(printf '%s\n' "$exports" | wc -l) symbols"
