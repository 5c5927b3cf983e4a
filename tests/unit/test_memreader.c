// SPDX-License-Identifier: MIT
/* memreader tests: the one rule for "could this value be a pointer into the
 * target's user space". */
#include <criterion/criterion.h>
#include <stdint.h>

#include "leakd/process/memreader.h"

Test(memreader, null_and_the_first_page_are_not_pointers)
{
	cr_assert_not(memreader_ptr_ok(0));
	cr_assert_not(memreader_ptr_ok(8), "a small integer misread as a pointer");
	cr_assert_not(memreader_ptr_ok(0xff8));
	cr_assert_not(memreader_addr_ok(1));
	cr_assert(memreader_ptr_ok(0x1000), "the second page may be mapped");
}

Test(memreader, object_pointers_are_8_aligned_byte_addresses_need_not_be)
{
	cr_assert(memreader_ptr_ok(0x55d0c0a01f8));
	cr_assert_not(memreader_ptr_ok(0x55d0c0a01f9));
	cr_assert_not(memreader_ptr_ok(0x55d0c0a01fc), "4-aligned is not enough for an object");
	cr_assert(memreader_addr_ok(0x55d0c0a01f9), "a string may start anywhere");
}

Test(memreader, user_space_ends_below_the_last_page_under_2_47)
{
	cr_assert(memreader_ptr_ok(0x7fffffffeff8), "the top of a stack");
	cr_assert(memreader_addr_ok(0x7fffffffefff));
	cr_assert_not(memreader_ptr_ok(0x7ffffffff000), "the guard page");
	cr_assert_not(memreader_addr_ok(0x7ffffffff000));
	cr_assert_not(memreader_ptr_ok(0x800000000000), "2^47 is not canonical for user space");
	cr_assert_not(memreader_ptr_ok(0xffff888000000000ull), "kernel direct map");
	cr_assert_not(memreader_ptr_ok(0xffffffff81000000ull), "kernel text");
	cr_assert_not(memreader_addr_ok(UINT64_MAX));
}
