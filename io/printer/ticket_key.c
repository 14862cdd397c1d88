/* ticket_key.c: keys of the phone links (ticket_key.h), with libsodium's HMAC-SHA-256. */
#include "ticket_key.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ticket_key_load(const char *data_dir, uint8_t secret[TICKET_KEY_SECRET_LEN], char *err, size_t errlen)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/mobile.key", data_dir);
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium cannot start");
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, secret, TICKET_KEY_SECRET_LEN);
        close(fd);
        if (n != TICKET_KEY_SECRET_LEN) {
            snprintf(err, errlen, "%s: must hold %d bytes (delete it to make a new one: the day's ticket "
                     "links then stop working)", path, TICKET_KEY_SECRET_LEN);
            return -1;
        }
        return 0;
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    randombytes_buf(secret, TICKET_KEY_SECRET_LEN);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, secret, TICKET_KEY_SECRET_LEN) != TICKET_KEY_SECRET_LEN || fsync(fd) < 0) {
        snprintf(err, errlen, "%s: cannot write the ticket link secret: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static void mac(const uint8_t secret[TICKET_KEY_SECRET_LEN], const char *hall_id, int32_t day, const char *code,
                uint8_t out[crypto_auth_hmacsha256_BYTES])
{
    char msg[128];
    int n = snprintf(msg, sizeof msg, "%s\n%d\n%s", hall_id, (int)day, code);
    if (n < 0 || (size_t)n >= sizeof msg) n = (int)sizeof msg - 1;   /* ids and codes are short */
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, secret, TICKET_KEY_SECRET_LEN);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, (unsigned long long)n);
    crypto_auth_hmacsha256_final(&st, out);
}

void ticket_key_make(const uint8_t secret[TICKET_KEY_SECRET_LEN], const char *hall_id, int32_t day,
                     const char *code, char out[TICKET_KEY_HEX_LEN + 1])
{
    uint8_t m[crypto_auth_hmacsha256_BYTES];
    mac(secret, hall_id, day, code, m);
    sodium_bin2hex(out, TICKET_KEY_HEX_LEN + 1, m, TICKET_KEY_HEX_LEN / 2);
}

bool ticket_key_check(const uint8_t secret[TICKET_KEY_SECRET_LEN], const char *hall_id, int32_t day,
                      const char *code, const char *key)
{
    if (!key || strlen(key) != TICKET_KEY_HEX_LEN) return false;
    char want[TICKET_KEY_HEX_LEN + 1];
    ticket_key_make(secret, hall_id, day, code, want);
    return sodium_memcmp(want, key, TICKET_KEY_HEX_LEN) == 0;
}
