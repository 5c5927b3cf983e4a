/* SPDX-License-Identifier: MIT */
/*
 * addrset: a set of 8-byte-aligned addresses of another process, for
 * "seen once" questions over millions of objects.
 *
 * A hash set of 64-bit keys costs ~16 bytes per object at a sane load; the
 * heap walk asks about tens of millions. Objects sit densely in pymalloc
 * arenas and malloc chunks, so a sparse bitmap (one bit per 8 bytes, in
 * 1 MiB chunks allocated on first use and found through a small hash table)
 * costs 16 KiB per touched MiB of the target's heap instead (1/64), and a lookup is
 * a hash probe plus a bit test. Memory is bounded: past max_bytes, adding
 * fails with -ENOSPC and the caller reports a partial answer.
 */
#ifndef LEAKD_ADDRSET_H
#define LEAKD_ADDRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADDRSET_DEFAULT_MAX_BYTES (256u << 20)

struct addrset;

/* max_bytes: 0 for ADDRSET_DEFAULT_MAX_BYTES. Returns 0 or -ENOMEM. */
int addrset_new(size_t max_bytes, struct addrset **out);
void addrset_free(struct addrset *s);

/*
 * Adds addr. Returns 1 if it was not in the set, 0 if it was, -EINVAL for an
 * address that is not 8-byte aligned or above 2^48, -ENOSPC when a new chunk
 * would pass max_bytes (the set is unchanged).
 */
int addrset_add(struct addrset *s, uint64_t addr);

/* Whether addr is in the set. */
bool addrset_has(const struct addrset *s, uint64_t addr);

/* Addresses in the set, and the memory the set uses. */
uint64_t addrset_count(const struct addrset *s);
size_t addrset_bytes(const struct addrset *s);

#endif /* LEAKD_ADDRSET_H */
