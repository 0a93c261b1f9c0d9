/* SPDX-License-Identifier: MIT
 *
 * The micronlp model file: one little-endian, versioned, checksummed container of sections.
 * Every model type stores its parts (labels, vocabulary, matrices, metadata) as sections; this
 * file knows nothing about what they mean.
 *
 *   offset 0   +------------------------------------------------------------+
 *              | magic "MICRONLP" (8) | version u32 | model_type u32        |   0..16
 *              | section_count u32 | flags u32 (0) | file_size u64          |  16..32
 *              | body_checksum u64 (XXH3-64 of bytes [64, file_size))       |  32..40
 *              | header_checksum u64 (XXH3-64 of bytes [0, 40))             |  40..48
 *              | reserved, must be zero (16)                                |  48..64
 *   64         +------------------------------------------------------------+
 *              | section table: section_count x { tag u32, flags u32 (0),   |
 *              |   offset u64, size u64, checksum u64 (XXH3-64 of payload)} |
 *              |   32 bytes each; offsets count from the start of the file  |
 *              +------------------------------------------------------------+
 *              | section payloads, each starting on a 64-byte boundary so   |
 *              | float matrices can be used in place from the mapping;      |
 *              | zero padding between them; the file ends after the last    |
 *              +------------------------------------------------------------+
 *
 * All integers are little-endian whatever the host. The header checksum covers [0, 40), the
 * bytes before the checksum itself; the reserved bytes are checked to be zero instead.
 *
 * Reading maps the file, then checks in order: size >= 64 (else MN_ETRUNC; an empty file says
 * "file is empty"), magic (else MN_EFOREIGN), 1 <= version <= MN_FORMAT_VERSION (else
 * MN_EVERSION), header checksum and zero reserved bytes (else MN_ECORRUPT), file_size equal to
 * the real size (MN_ETRUNC if the file is shorter, MN_ECORRUPT if it has trailing bytes), body
 * checksum (else MN_ECORRUPT), then every section: 64-byte aligned, after the section table,
 * inside the file, matching its checksum, tag not repeated (else MN_ECORRUPT). Only then does a
 * model see the sections. Every message starts with the path ("<memory>" for
 * mn_file_open_mem), e.g. "model.bin: truncated: header says 12345 bytes, file has 12000".
 *
 * Thread safety: a writer belongs to one thread. An opened mn_file is immutable and may be
 * read from any number of threads. The mapping assumes the file is not modified in place
 * while open (the writer never does that: it renames a new file over the old one).
 */
#ifndef MN_MODELS_FORMAT_H
#define MN_MODELS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "micronlp/err.h"

#define MN_FORMAT_MAGIC "MICRONLP"
/* Version 2: a classifier may use the token flags MN_TOKENS_FOLD_DIGITS and MN_TOKENS_SHAPE,
 * which a version-1 reader would ignore and so answer wrongly. A file that needs nothing of
 * version 2 is still written as version 1 (mn_file_writer_need_version), so older builds read
 * every model they can read right. */
/* Version 3: a classifier may store its input rows in 6 bits with half-precision scales and
 * its kept bucket ids as gaps (mn_clf_params.in_bits, classifier.h), which a version-2 reader
 * would not find, and use the token flag MN_TOKENS_CJK_RUNS, which it would ignore. */
#define MN_FORMAT_VERSION 3u
#define MN_FORMAT_ALIGN 64u

/* Section tags are four ASCII characters read as a little-endian u32. */
#define MN_TAG(a, b, c, d)                                                                         \
    ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))

/* ---- writing ---------------------------------------------------------------------------- */

typedef struct mn_file_writer mn_file_writer;

/* Creates an empty writer. Returns 0, MN_EINVAL (out is NULL) or MN_ENOMEM. */
int mn_file_writer_new(uint32_t model_type, mn_file_writer **out);
/* Raises the version the file is written with (default 1) to at least version, for a model
 * that uses something a reader of an older version would misread. Returns 0, or MN_EINVAL for
 * a NULL writer or a version outside 1..MN_FORMAT_VERSION. */
int mn_file_writer_need_version(mn_file_writer *w, uint32_t version);
/* Frees the writer and its section copies; NULL is a no-op. */
void mn_file_writer_free(mn_file_writer *w);

/* Adds a section; the bytes are copied (data may be NULL when size is 0). Tags must be unique.
 * Returns 0, MN_EINVAL (NULL writer or data, repeated tag) or MN_ENOMEM; on failure the
 * writer holds the same sections as before (an open section is closed either way). */
int mn_file_writer_add(mn_file_writer *w, uint32_t tag, const void *data, size_t size);

/* Adds a section whose payload is built in pieces: begin, append any number of times.
 * Only one section may be open at a time; the next add/begin/commit closes it. append without
 * an open section returns MN_EINVAL; a failed append (MN_ENOMEM) leaves the payload as it was. */
int mn_file_writer_begin(mn_file_writer *w, uint32_t tag);
int mn_file_writer_append(mn_file_writer *w, const void *data, size_t size);

/* Writes everything to path atomically: path.tmp.<pid>, fsync, rename (then a best-effort
 * fsync of the directory). On any failure the temporary file is removed and path is left as
 * it was. Returns 0, MN_EINVAL, MN_ENOMEM, MN_ETOOBIG or -errno; err (may be NULL) gets
 * "path: reason". The writer stays usable (commit may be called again). Two threads of one
 * process must not commit to the same path at the same time (they would share the tmp name). */
int mn_file_writer_commit(mn_file_writer *w, const char *path, mn_err *err);

/* The end of every model's save: if building the sections failed (rc != 0) report it for
 * path, else commit; frees the writer either way. Returns 0 or the failure's code. */
int mn_file_writer_finish(mn_file_writer *w, int rc, const char *path, mn_err *err);

/* ---- reading ---------------------------------------------------------------------------- */

typedef struct mn_file mn_file;

/* Maps and verifies a file as described above. err gets "path: reason". Returns 0, -errno
 * (-ENOENT, -EISDIR, ...), MN_EINVAL (not a regular file), MN_ETRUNC, MN_EFOREIGN,
 * MN_EVERSION, MN_ECORRUPT, MN_ETOOBIG or MN_ENOMEM; *out is set only on success. */
int mn_file_open(const char *path, mn_file **out, mn_err *err);
/* Same checks on a caller-owned buffer (used by the fuzz driver and tests); the buffer must
 * outlive the mn_file. A buffer that is not 64-byte aligned is copied (so section pointers are
 * always aligned), in which case it may be freed right away. */
int mn_file_open_mem(const void *data, size_t size, mn_file **out, mn_err *err);
/* Unmaps and frees; NULL is a no-op. Section pointers die with the mn_file. */
void mn_file_close(mn_file *f);

/* The header's model_type and version, and the file size in bytes (0 for NULL). */
uint32_t mn_file_model_type(const mn_file *f);
uint32_t mn_file_version(const mn_file *f);
size_t mn_file_size(const mn_file *f);

/* Finds a section by tag (O(log n)): returns 0 and sets *data and *size (pointing into the
 * mapping, aligned to 64 bytes; either out-pointer may be NULL), or MN_ENOTFOUND and leaves
 * them untouched. MN_EINVAL if f is NULL. */
int mn_file_section(const mn_file *f, uint32_t tag, const void **data, size_t *size);

/* True if the first bytes look like a micronlp file (for format detection): checks only the
 * 8-byte magic, so len >= 8 is needed for a yes. */
int mn_file_sniff(const void *head, size_t len);

#endif
