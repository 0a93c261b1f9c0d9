/* SPDX-License-Identifier: MIT
 *
 * Per-code-point byte tables of the Basic Multilingual Plane filled a page at a time on first
 * use (mn__cp_pages, text/internal.h).
 */
#include "text/internal.h"

#include <pthread.h>

/* One lock for every table: a page is filled once per process. */
static pthread_mutex_t fill_lock = PTHREAD_MUTEX_INITIALIZER;

const unsigned char *mn__cp_pages_fill(mn__cp_pages *t, unsigned page)
{
    pthread_mutex_lock(&fill_lock);
    if (!atomic_load_explicit(&t->ready[page], memory_order_relaxed)) {
        for (unsigned i = 0; i < 256; i++)
            t->tab[page][i] = t->compute((int32_t)(page << 8 | i));
        atomic_store_explicit(&t->ready[page], 1, memory_order_release);
    }
    pthread_mutex_unlock(&fill_lock);
    return t->tab[page];
}
