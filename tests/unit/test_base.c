/*
 * test_base — the pieces under src/base: capped buffers, hex, ids, digests, strmap, base64,
 * bounded string copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/digest.h"
#include "base/hex.h"
#include "base/ids.h"
#include "base/str.h"
#include "base/strmap.h"

static void test_buf_grows_and_caps(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "hello"), 0);
    assert_int_equal(buf_putc(&b, ' '), 0);
    assert_int_equal(buf_printf(&b, "%d", 123), 0);
    assert_string_equal(b.data, "hello 123");
    /* Past the cap: refused, and the buffer is unchanged. */
    assert_int_equal(buf_puts(&b, "xy"), -1);
    assert_string_equal(b.data, "hello 123");
    assert_int_equal(buf_putc(&b, '!'), 0);
    assert_int_equal(buf_putc(&b, '!'), -1);
    size_t len;
    char *s = buf_steal(&b, &len);
    assert_int_equal(len, 10);
    assert_string_equal(s, "hello 123!");
    free(s);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void test_buf_reserve_then_append(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b, 0);
    assert_int_equal(buf_reserve(&b, 4096), 0);
    char *before = b.data;
    for (int i = 0; i < 4000; i++)
        buf_putc(&b, (char)('a' + i % 26));
    assert_ptr_equal(b.data, before); /* no regrowth within the reservation */
    assert_int_equal(b.len, 4000);
    assert_int_equal(b.data[4000], '\0');
    buf_free(&b);
}

static void test_hex(void **state)
{
    (void)state;
    const uint8_t p[] = {0x00, 0x9f, 0xa0, 0xff};
    char out[9];
    hex_encode(p, sizeof(p), out);
    assert_string_equal(out, "009fa0ff");
    assert_int_equal(hex_digit('7'), 7);
    assert_int_equal(hex_digit('b'), 11);
    assert_int_equal(hex_digit('F'), 15);
    assert_int_equal(hex_digit('g'), -1);
}

static void test_uuid4_shape_and_uniqueness(void **state)
{
    (void)state;
    char a[37], b[37];
    ids_uuid4(a);
    ids_uuid4(b);
    assert_int_equal(strlen(a), 36);
    assert_true(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    assert_int_equal(a[14], '4');           /* version 4 */
    assert_non_null(strchr("89ab", a[19])); /* RFC 4122 variant */
    assert_string_not_equal(a, b);
}

static void test_digests_match_known_values(void **state)
{
    (void)state;
    uint8_t d[32];
    char hex[65];
    digest_sha256("abc", 3, d);
    hex_encode(d, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    digest_md5("hello", 5, d);
    hex_encode(d, 16, hex);
    assert_string_equal(hex, "5d41402abc4b2a76b9719d911017c592");
    /* RFC 4231 test case 2 */
    digest_hmac_sha256((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28, d);
    hex_encode(d, 32, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* Pieces give the same MD5 as the whole. */
    digest_md5_begin();
    digest_md5_add("he", 2);
    digest_md5_add("llo", 3);
    digest_md5_finish(d);
    hex_encode(d, 16, hex);
    assert_string_equal(hex, "5d41402abc4b2a76b9719d911017c592");
}

/* Random puts and deletes checked against a plain array model: deletion's
 * backward shift must never lose a key that shares a probe run. */
static void test_strmap_matches_model(void **state)
{
    (void)state;
    enum { KEYS = 300 };
    strmap_t m = STRMAP_INIT;
    int model[KEYS] = {0};
    uint32_t x = 12345;
    for (int step = 0; step < 20000; step++) {
        x = x * 1103515245u + 12345u;
        int k = (int)((x >> 8) % KEYS);
        char key[16];
        int klen = snprintf(key, sizeof(key), "k%d%c%d", k, 0, k * 7);
        if ((x >> 4) & 1) {
            void *prev = strmap_put(&m, key, (size_t)klen, (void *)(intptr_t)(k + 1));
            assert_int_equal((intptr_t)prev, model[k] ? k + 1 : 0);
            model[k] = 1;
        } else {
            void *old = strmap_del(&m, key, (size_t)klen);
            assert_int_equal((intptr_t)old, model[k] ? k + 1 : 0);
            model[k] = 0;
        }
    }
    size_t n = 0, pos = 0;
    for (int k = 0; k < KEYS; k++) {
        char key[16];
        int klen = snprintf(key, sizeof(key), "k%d%c%d", k, 0, k * 7);
        assert_int_equal((intptr_t)strmap_get(&m, key, (size_t)klen), model[k] ? k + 1 : 0);
        n += (size_t)model[k];
    }
    assert_int_equal(m.n, n);
    size_t seen = 0;
    while (strmap_next(&m, &pos))
        seen++;
    assert_int_equal(seen, n);
    /* A key is its bytes: a prefix or a longer key is another key. */
    assert_null(strmap_get(&m, "k1", 2));
    strmap_free(&m);
}

/* Strict base64: the alphabet only, padding only at the very end. */
static void test_b64_decode_is_strict(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } ok[] = {{"", ""}, {"Zg==", "f"}, {"Zm8=", "fo"}, {"Zm9v", "foo"}, {"Zm9vYg==", "foob"}};
    static const char *const bad[] = {
        "Zg=", "Zg", "Z===", "Zg==Zg==", "Zm 9v", "Zm9v\n", "Zm-v", "=Zg="};
    uint8_t buf[64];
    size_t len;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(b64_decode(ok[i].in, strlen(ok[i].in), buf, &len), 0);
        assert_int_equal(len, strlen(ok[i].out));
        assert_memory_equal(buf, ok[i].out, len);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(b64_decode(bad[i], strlen(bad[i]), buf, &len), -1);
}

/* str_copy, str_copyn and str_join give what snprintf("%s") gave: truncated, terminated. */
static void test_str_copies_truncate_like_snprintf(void **state)
{
    (void)state;
    char d[6], ref[6];
    const char *cases[] = {"", "abc", "abcde", "abcdef", "abcdefghij"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(ref, sizeof(ref), "%s", cases[i]);
        assert_int_equal(str_copy(d, sizeof(d), cases[i]), strlen(ref));
        assert_string_equal(d, ref);
    }
    assert_int_equal(str_copyn(d, sizeof(d), "xyz", 2), 2);
    assert_string_equal(d, "xy");
    assert_int_equal(str_copyn(d, 1, "xyz", 3), 0);
    assert_string_equal(d, "");
    assert_int_equal(str_join(d, sizeof(d), (const char *const[]){"ab", "", "cd", NULL}), 4);
    assert_string_equal(d, "abcd");
    assert_int_equal(str_join(d, sizeof(d), (const char *const[]){"abc", "def", "g", NULL}), 5);
    assert_string_equal(d, "abcde");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_grows_and_caps),
        cmocka_unit_test(test_buf_reserve_then_append),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_uuid4_shape_and_uniqueness),
        cmocka_unit_test(test_digests_match_known_values),
        cmocka_unit_test(test_strmap_matches_model),
        cmocka_unit_test(test_b64_decode_is_strict),
        cmocka_unit_test(test_str_copies_truncate_like_snprintf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
