/* dbfile.c - is the database file still the one we write? (see dbfile.h) */
#include "dbfile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static char db_path[PATH_MAX]; /* collector thread: the file remembered */
static dev_t db_dev;           /* its device and inode */
static ino_t db_ino;
static int remembered;         /* whether the three above are set */

int tl_dbfile_remember(const char *path)
{
    struct stat st;

    remembered = 0;
    /* Absolute: a program that changes directory has not deleted the database. */
    if (!realpath(path, db_path))
        return -errno;
    if (stat(path, &st) != 0)
        return -errno;
    db_dev = st.st_dev;
    db_ino = st.st_ino;
    remembered = 1;
    return 0;
}

const char *tl_dbfile_check(void)
{
    struct stat st;
    int saved = errno; /* the collector's errno is nobody's business, but keep it tidy */
    const char *what = NULL;

    if (!remembered)
        return NULL;
    if (stat(db_path, &st) != 0)
        what = errno == ENOENT ? "deleted" : NULL; /* EACCES, EIO: cannot tell, keep going */
    else if (st.st_dev != db_dev || st.st_ino != db_ino)
        what = "replaced";
    errno = saved;
    return what;
}
