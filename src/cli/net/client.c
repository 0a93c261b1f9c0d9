/* SPDX-License-Identifier: MIT
 *
 * HTTP client for submit and jobs (client.h), over libcurl's easy interface.
 */
#include "cli/net/client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "micronlp/alloc.h"

struct cli_client {
    CURL *curl;
    char *base;
    char *buf;
    size_t len, cap;
    int oom;
    char errbuf[CURL_ERROR_SIZE];
};

const char *cli_server_url(const char *opt)
{
    if (opt && *opt)
        return opt;
    const char *env = getenv("MICRONLP_SERVER");
    return env && *env ? env : "http://127.0.0.1:8080";
}

static size_t on_data(char *ptr, size_t size, size_t n, void *ctx)
{
    cli_client *c = ctx;
    size_t add = size * n;
    if (c->len + add + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 65536;
        while (cap < c->len + add + 1)
            cap *= 2;
        char *b = mn_realloc(c->buf, cap);
        if (!b) {
            c->oom = 1;
            return 0; /* makes curl stop with an error */
        }
        c->buf = b;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, ptr, add);
    c->len += add;
    c->buf[c->len] = '\0';
    return add;
}

cli_client *cli_client_new(const char *base_url)
{
    static int global_done;
    if (!global_done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_done = 1;
    }
    cli_client *c = mn_calloc(1, sizeof *c);
    if (!c || !(c->curl = curl_easy_init())) {
        mn_free(c);
        cli_error("cannot start an HTTP client: out of memory");
        return NULL;
    }
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        n--;
    c->base = mn_strndup(base_url, n);
    if (!c->base) {
        cli_client_free(c);
        cli_error("out of memory");
        return NULL;
    }
    return c;
}

void cli_client_free(cli_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    mn_free(c->base);
    mn_free(c->buf);
    mn_free(c);
}

long cli_http(cli_client *c, const char *method, const char *path, const char *body,
              size_t body_len, long timeout_s, const char **out, size_t *out_len)
{
    size_t ulen = strlen(c->base) + strlen(path) + 1;
    char *url = mn_malloc(ulen);
    if (!url) {
        cli_error("out of memory");
        return -1;
    }
    snprintf(url, ulen, "%s%s", c->base, path);
    c->len = 0;
    c->oom = 0;
    if (c->buf)
        c->buf[0] = '\0';
    c->errbuf[0] = '\0';
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    struct curl_slist *hdrs = NULL;
    if (body) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    long status = -1;
    if (rc != CURLE_OK) {
        cli_error("%s: %s", url, c->oom ? "out of memory" : c->errbuf[0] ? c->errbuf
                                                          : curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    }
    mn_free(url);
    *out = c->buf ? c->buf : "";
    *out_len = c->len;
    return status;
}

const char *cli_http_error(const char *body, char *buf, size_t cap)
{
    /* {"error":"..."}: the message without JSON escapes of quotes (good enough for a line). */
    const char *p = strstr(body, "\"error\":\"");
    if (!p) {
        snprintf(buf, cap, "%.*s", (int)(cap - 1), body);
        return buf;
    }
    p += 9;
    size_t n = 0;
    while (*p && *p != '"' && n + 1 < cap) {
        if (*p == '\\' && p[1])
            p++;
        buf[n++] = *p++;
    }
    buf[n] = '\0';
    return buf;
}
