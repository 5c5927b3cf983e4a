// SPDX-License-Identifier: MIT
/* hashmap tests: integer and string keys, deletion across the table's end,
 * growth, the bound on entries, and iteration. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "leakd/base/hashmap.h"

struct ent {
	uint64_t key;
	uint64_t value;
};

static size_t slot_of(const struct hashmap *m, const void *e)
{
	return (size_t)((const unsigned char *)e - m->slots) / m->entry_size;
}

Test(hashmap, insert_lookup_delete)
{
	struct hashmap m;
	struct ent *e;

	cr_assert_eq(hashmap_init(&m, sizeof(struct ent), 0), 0);
	cr_assert_null(hashmap_get(&m, 0x1000), "empty map finds nothing");
	cr_assert_eq(hashmap_put(&m, 0x1000, (void **)&e), 1, "added");
	cr_assert_eq(e->key, 0x1000);
	cr_assert_eq(e->value, 0, "a new entry is zeroed");
	e->value = 7;
	cr_assert_eq(hashmap_put(&m, 0x1000, (void **)&e), 0, "found, not added twice");
	cr_assert_eq(e->value, 7);
	cr_assert_eq(hashmap_count(&m), 1);
	e = hashmap_get(&m, 0x1000);
	cr_assert_not_null(e);
	cr_assert_eq(e->value, 7);
	cr_assert_null(hashmap_get(&m, 0x1010));
	cr_assert(hashmap_del(&m, 0x1000));
	cr_assert_not(hashmap_del(&m, 0x1000), "deleted once");
	cr_assert_null(hashmap_get(&m, 0x1000));
	cr_assert_eq(hashmap_count(&m), 0);
	hashmap_fini(&m);
	hashmap_fini(NULL);
}

Test(hashmap, key_zero_and_odd_entry_sizes_are_refused)
{
	struct hashmap m;
	void *e;

	cr_assert_eq(hashmap_init(&m, 12, 0), -EINVAL);
	cr_assert_eq(hashmap_init(&m, 4, 0), -EINVAL);
	cr_assert_eq(hashmap_init(&m, sizeof(struct ent), 0), 0);
	cr_assert_eq(hashmap_put(&m, 0, &e), -EINVAL);
	cr_assert_null(hashmap_get(&m, 0));
	hashmap_fini(&m);
}

/* Keys whose entries sit in the last slot of a fresh 16-slot table, found by
 * watching where each lands, so the test does not restate the hash. */
static size_t keys_homed_last(uint64_t *out, size_t want)
{
	size_t n = 0;

	for (uint64_t k = 16; n < want && k < 16 * 100000; k += 16) {
		struct hashmap m;
		void *e;

		hashmap_init(&m, sizeof(struct ent), 0);
		hashmap_put(&m, k, &e);
		if (m.n_slots == 16 && slot_of(&m, e) == 15)
			out[n++] = k;
		hashmap_fini(&m);
	}
	return n;
}

Test(hashmap, deletion_keeps_keys_reachable_across_the_end)
{
	uint64_t k[3];
	struct hashmap m;
	struct ent *e;

	cr_assert_eq(keys_homed_last(k, 3), 3);
	hashmap_init(&m, sizeof(struct ent), 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(hashmap_put(&m, k[i], (void **)&e), 1);
		e->value = 100 + i;
	}
	cr_assert_eq(m.n_slots, 16);
	/* the run starts in the last slot and wraps to slots 0 and 1 */
	cr_assert_eq(slot_of(&m, hashmap_get(&m, k[0])), 15);
	cr_assert_eq(slot_of(&m, hashmap_get(&m, k[1])), 0);
	cr_assert(hashmap_del(&m, k[0]));
	for (int i = 1; i < 3; i++) {
		e = hashmap_get(&m, k[i]);
		cr_assert_not_null(e, "key %d reachable after the head of its run left", i);
		cr_assert_eq(e->value, 100 + i);
	}
	cr_assert(hashmap_del(&m, k[1]));
	e = hashmap_get(&m, k[2]);
	cr_assert_not_null(e);
	cr_assert_eq(e->value, 102);
	hashmap_fini(&m);
}

Test(hashmap, random_churn_matches_a_plain_array)
{
	enum { KEYS = 64 };
	bool in[KEYS] = { 0 };
	struct hashmap m;
	uint64_t rng = 12345;
	size_t n = 0;

	hashmap_init(&m, sizeof(struct ent), 0);
	for (int step = 0; step < 20000; step++) {
		size_t i;
		struct ent *e;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		i = (rng >> 33) % KEYS;
		if (in[i]) {
			cr_assert(hashmap_del(&m, (i + 1) * 16));
			n--;
		} else {
			cr_assert_eq(hashmap_put(&m, (i + 1) * 16, (void **)&e), 1);
			e->value = i;
			n++;
		}
		in[i] = !in[i];
		for (size_t j = 0; j < KEYS; j++) {
			e = hashmap_get(&m, (j + 1) * 16);
			cr_assert_eq(e != NULL, in[j], "step %d key %zu", step, j);
			if (e)
				cr_assert_eq(e->value, j);
		}
		cr_assert_eq(hashmap_count(&m), n);
	}
	hashmap_fini(&m);
}

Test(hashmap, grows_and_keeps_every_entry)
{
	struct hashmap m;
	struct ent *e;
	size_t first;

	hashmap_init(&m, sizeof(struct ent), 0);
	hashmap_put(&m, 0x10, (void **)&e);
	first = m.n_slots;
	for (uint64_t i = 2; i <= 100000; i++) {
		cr_assert_eq(hashmap_put(&m, i * 16, (void **)&e), 1);
		e->value = i;
	}
	cr_assert_gt(m.n_slots, first);
	cr_assert_leq(hashmap_count(&m) * 4, m.n_slots * 3, "load stays at most 3/4");
	cr_assert_eq(hashmap_count(&m), 100000);
	for (uint64_t i = 2; i <= 100000; i++) {
		e = hashmap_get(&m, i * 16);
		cr_assert_not_null(e);
		cr_assert_eq(e->value, i);
	}
	hashmap_fini(&m);
}

Test(hashmap, stops_at_max_count_and_bounds_memory)
{
	struct hashmap m;
	void *e;

	hashmap_init(&m, sizeof(struct ent), 1000);
	for (uint64_t i = 1; i <= 1000; i++)
		cr_assert_eq(hashmap_put(&m, i * 16, &e), 1);
	cr_assert_eq(hashmap_put(&m, 1001 * 16, &e), -ENOSPC, "full at the cap");
	cr_assert_eq(hashmap_put(&m, 500 * 16, &e), 0, "present keys are still found");
	cr_assert_null(hashmap_get(&m, 1001 * 16));
	cr_assert_leq(hashmap_bytes(&m), 2048 * sizeof(struct ent), "no more slots than 1000 entries need");
	cr_assert(hashmap_del(&m, 16));
	cr_assert_eq(hashmap_put(&m, 1001 * 16, &e), 1, "room again after a delete");
	cr_assert_eq(hashmap_reserve(&m, 1001), -ENOSPC);
	hashmap_fini(&m);
}

Test(hashmap, iteration_visits_each_entry_once)
{
	struct hashmap m;
	struct ent *e;
	uint64_t seen = 0, sum = 0;
	size_t pos = 0;

	hashmap_init(&m, sizeof(struct ent), 0);
	cr_assert_null(hashmap_next(&m, &pos), "nothing in an empty map");
	for (uint64_t i = 1; i <= 50; i++)
		hashmap_put(&m, i << 20, (void **)&e);
	pos = 0;
	while ((e = hashmap_next(&m, &pos))) {
		seen++;
		sum += e->key >> 20;
	}
	cr_assert_eq(seen, 50);
	cr_assert_eq(sum, 50 * 51 / 2);
	hashmap_clear(&m);
	pos = 0;
	cr_assert_null(hashmap_next(&m, &pos), "cleared");
	cr_assert_eq(hashmap_count(&m), 0);
	hashmap_fini(&m);
}

/* string keys: entries hold an index into the caller's array of names */
struct named {
	uint64_t key;
	uint32_t index;
	uint32_t pad;
};

static const char *name_of(const void *entry, void *ctx)
{
	const char **names = ctx;

	return names[((const struct named *)entry)->index];
}

Test(hashmap, string_keys)
{
	const char *names[] = { "PyObject_Malloc", "PyObject_Free", "list", "dict", "" };
	struct hashmap m;
	struct named *e;

	hashmap_init(&m, sizeof(struct named), 0);
	for (uint32_t i = 0; i < 5; i++) {
		cr_assert_eq(hashmap_put_str(&m, names[i], name_of, names, (void **)&e), 1);
		e->index = i;
	}
	cr_assert_eq(hashmap_put_str(&m, "list", name_of, names, (void **)&e), 0);
	cr_assert_eq(e->index, 2);
	for (uint32_t i = 0; i < 5; i++) {
		char copy[32];

		strcpy(copy, names[i]);	/* by content, not by pointer */
		e = hashmap_get_str(&m, copy, name_of, names);
		cr_assert_not_null(e, "%s", names[i]);
		cr_assert_eq(e->index, i);
	}
	cr_assert_null(hashmap_get_str(&m, "tuple", name_of, names));
	cr_assert_neq(hashmap_hash_str(""), 0, "no string hashes to the empty key");
	hashmap_fini(&m);
}
