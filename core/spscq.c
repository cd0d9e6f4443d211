/* spscq.c: a bounded single-producer/single-consumer ring of fixed-size
 * elements copied by value.
 *
 * This is how the signalling thread and a mixer thread talk without a lock:
 * the producer alone writes head, the consumer alone writes tail, and the
 * release/acquire pair on those indices publishes the element bytes. The
 * indices run freely and are masked on use, so full and empty differ. */
#include "core/core.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct spscq {
	alignas(64) _Atomic size_t head; /* next slot to write; producer */
	alignas(64) _Atomic size_t tail; /* next slot to read; consumer */
	alignas(64) size_t mask;
	size_t elem_bytes;
	unsigned char *slots;
};

int spscq_new(struct spscq **out, size_t capacity, size_t elem_bytes)
{
	if (!out || capacity == 0 || elem_bytes == 0 ||
	    capacity > ((size_t)1 << 24))
		return -EINVAL;
	size_t cap = 1;
	while (cap < capacity)
		cap <<= 1;

	struct spscq *q = aligned_alloc(64, sizeof(*q));
	if (!q)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->slots = calloc(cap, elem_bytes);
	if (!q->slots) {
		free(q);
		return -ENOMEM;
	}
	q->mask = cap - 1;
	q->elem_bytes = elem_bytes;
	atomic_init(&q->head, 0);
	atomic_init(&q->tail, 0);
	*out = q;
	return 0;
}

void spscq_free(struct spscq *q)
{
	if (!q)
		return;
	free(q->slots);
	free(q);
}

int spscq_push(struct spscq *q, const void *elem)
{
	size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
	if (head - tail > q->mask)
		return -ENOSPC;
	memcpy(q->slots + (head & q->mask) * q->elem_bytes, elem,
	       q->elem_bytes);
	atomic_store_explicit(&q->head, head + 1, memory_order_release);
	return 0;
}

int spscq_pop(struct spscq *q, void *elem)
{
	size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
	if (head == tail)
		return -EAGAIN;
	memcpy(elem, q->slots + (tail & q->mask) * q->elem_bytes,
	       q->elem_bytes);
	atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
	return 0;
}
