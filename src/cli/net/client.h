/* SPDX-License-Identifier: MIT
 *
 * The command as a client of a running `micronlp serve` (submit, jobs): HTTP through libcurl,
 * one kept-alive connection per client. The server's address comes from --server, else the
 * environment variable MICRONLP_SERVER, else http://127.0.0.1:8080.
 */
#ifndef MN_CLI_CLIENT_H
#define MN_CLI_CLIENT_H

#include <stddef.h>

typedef struct cli_client cli_client;

/* The server URL to use: opt if set, else $MICRONLP_SERVER, else the default. */
const char *cli_server_url(const char *opt);

/* NULL after printing an error. */
cli_client *cli_client_new(const char *base_url);
void cli_client_free(cli_client *c);

/* Sends METHOD base_url+path (body may be NULL) and collects the answer. Returns the HTTP
 * status (>= 100), or -1 after printing why the server could not be reached. The body is in
 * *out / *out_len until the next call (NUL-terminated). timeout_s bounds the whole exchange. */
long cli_http(cli_client *c, const char *method, const char *path, const char *body,
              size_t body_len, long timeout_s, const char **out, size_t *out_len);

/* The "error" of a JSON error body, or the body itself (for messages). */
const char *cli_http_error(const char *body, char *buf, size_t cap);

#endif
