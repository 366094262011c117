/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msg.c - the transaction context: its life and what it keeps (see msg.h)
 */
#include "milter/msg.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

/* msg_new - a fresh transaction context; NULL when out of memory */
milter_msg *msg_new(const conf *cfg)
{
    milter_msg *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, &m->started);
    addr_from_init(&m->from);
    body_init(&m->body, cfg->milter.body_memory_limit, cfg->milter.max_rewrite_size,
              *cfg->milter.temp_dir ? cfg->milter.temp_dir : getenv("TMPDIR"));
    return m;
}

/* msg_free - everything a transaction held */
void msg_free(milter_msg *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_rcpts; i++)
        free(m->rcpts[i]);
    free(m->rcpts);
    for (size_t i = 0; i < m->n_hdrs; i++) {
        free(m->hdrs[i].name);
        free(m->hdrs[i].value);
    }
    free(m->hdrs);
    free(m->rec);
    body_free(&m->body);
    free(m);
}

/* msg_add_rcpt - remember an accepted recipient (bare address); false when out of memory */
bool msg_add_rcpt(milter_msg *m, const char *rcpt)
{
    char *copy = strdup(rcpt), **slot = NULL;

    if (copy == NULL || (slot = buf_array_add((void **)&m->rcpts, &m->n_rcpts, &m->cap_rcpts,
                                              sizeof(*slot), 8)) == NULL) {
        free(copy);
        return false;
    }
    *slot = copy;
    return true;
}

/* msg_keep_header - one more field for the rewrite step, within the bounds of msg.h */
void msg_keep_header(milter_msg *m, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    milter_header *h;

    if (m->n_hdrs == MSG_MAX_HEADERS || m->hdr_bytes + nl + vl > MSG_MAX_HEADER_BYTES) {
        m->too_many_headers = true;
        return;
    }
    if (m->n_hdrs == m->cap_hdrs) {
        size_t cap = m->cap_hdrs ? m->cap_hdrs * 2 : 32;
        milter_header *v;
        if (cap > MSG_MAX_HEADERS)
            cap = MSG_MAX_HEADERS;
        if ((v = realloc(m->hdrs, cap * sizeof(*v))) == NULL) {
            m->too_many_headers = true;
            return;
        }
        m->hdrs = v;
        m->cap_hdrs = cap;
    }
    h = &m->hdrs[m->n_hdrs];
    h->name = strdup(name);
    h->value = strdup(value);
    if (h->name == NULL || h->value == NULL) {
        free(h->name);
        free(h->value);
        m->too_many_headers = true;
        return;
    }
    m->hdr_bytes += nl + vl;
    m->n_hdrs++;
}
