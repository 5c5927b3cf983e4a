/* SPDX-License-Identifier: MIT */
/*
 * grow: room for one more element in a bounded, geometrically grown array.
 *
 * The census seeds, the heap walk's stack and the series all keep an array
 * that doubles as it fills and stops at a limit the user sets, where the
 * caller drops the element and says the answer is partial (or, for a
 * series, halves it). This is that one rule.
 */
#ifndef LEAKD_GROW_H
#define LEAKD_GROW_H

#include <stddef.h>

/*
 * Makes room for element n (n in use) of an array at *buf of *cap elements
 * of esz bytes: when full, grows it to twice *cap (first when empty), never
 * past max. Returns 0 when there is room (*buf and *cap may have changed),
 * 1 when the array is full at max (nothing changed), -ENOMEM (nothing
 * changed).
 */
int grow_room(void **buf, size_t n, size_t *cap, size_t esz, size_t first, size_t max);

#endif /* LEAKD_GROW_H */
