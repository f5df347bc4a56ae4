/* schema_image.c - a new database file from the build-time image (see schema_image.h). */
#include "schema_image.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static int write_all(int fd, const unsigned char *p, unsigned long n)
{
    while (n > 0) {
        ssize_t done = write(fd, p, n);
        if (done < 0 && errno == EINTR)
            continue;
        if (done <= 0)
            return done < 0 ? -errno : -EIO;
        p += done;
        n -= (unsigned long)done;
    }
    return 0;
}

int tl_schema_image_write(const char *path)
{
    /* O_EXCL: an existing file (an exec'd image appending, a reader's) is never touched. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, tl_schema_image, tl_schema_image_size);
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        unlink(path); /* a partial file would read as a corrupt database */
    return rc;
}
