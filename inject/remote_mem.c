/*
 * remote_mem.c - whole-buffer transfers to and from a target process.
 */
#include "remote_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>

/* Move n bytes through /proc/PID/mem. Returns 0 or -errno (-EIO: short). */
static int proc_mem_io(pid_t pid, uint64_t addr, void *pBuf, size_t n, int write)
{
    char zFile[64];
    snprintf(zFile, sizeof(zFile), "/proc/%ld/mem", (long)pid);
    int fd = open(zFile, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    ssize_t r = write ? pwrite(fd, pBuf, n, (off_t)addr) : pread(fd, pBuf, n, (off_t)addr);
    int rc = r < 0 ? -errno : (size_t)r == n ? 0 : -EIO;
    close(fd);
    return rc;
}

/* Read n bytes at addr of pid into pBuf. Returns 0 or -errno. */
int tl_mem_read(pid_t pid, uint64_t addr, void *pBuf, size_t n)
{
    struct iovec local = {.iov_base = pBuf, .iov_len = n};
    struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = n};
    ssize_t r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (r >= 0 && (size_t)r == n) {
        return 0;
    }
    return proc_mem_io(pid, addr, pBuf, n, 0);
}

/* Write n bytes from pBuf to addr of pid. Returns 0 or -errno. */
int tl_mem_write(pid_t pid, uint64_t addr, const void *pBuf, size_t n)
{
    struct iovec local = {.iov_base = (void *)pBuf, .iov_len = n};
    struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = n};
    ssize_t r = process_vm_writev(pid, &local, 1, &remote, 1, 0);
    if (r >= 0 && (size_t)r == n) {
        return 0;
    }
    return proc_mem_io(pid, addr, (void *)pBuf, n, 1);
}
