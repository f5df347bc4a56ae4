/*
 * schema_image.h - a new database file, whole: the schema (schema.h) created
 * at build time by tl-schema-image-gen, in WAL mode, user_version set and
 * meta's 'app' row written. Starting a run's database from it saves the CREATE
 * statements (about 2 ms of start-up); the store then opens it like any
 * database of ours.
 */
#ifndef TL_SCHEMA_IMAGE_H
#define TL_SCHEMA_IMAGE_H

extern const unsigned char tl_schema_image[];
extern const unsigned long tl_schema_image_size;

/*
 * Creates `path` from the image, only when no file is there. Returns 0 when
 * it wrote the file, -EEXIST when a file was there (left alone), or another
 * -errno (nothing left behind; the caller's open will say what is wrong).
 */
int tl_schema_image_write(const char *path);

#endif
