/* text.h: the one check of free text a command receives. Every string of every request (at any
 * depth) must be valid UTF-8 without control characters and no longer than its field's limit
 * (the table of text.c, shown in docs/protocol.md "Free text"); screens, terminals and logs can
 * then show any of it as it is. */
#ifndef HK_TEXT_H
#define HK_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "val.h"

#define HK_TEXT_DEFAULT_MAX 256   /* bytes: a short free text */
#define HK_TEXT_UNREAD_MAX (64 * 1024)   /* a field no command reads: the frame bounds it */
#define HK_TEXT_KEY_MAX 64        /* bytes of a map key */

/* 0, or -1 with a message in why: v is a string of 1..max bytes of valid UTF-8 without control
 * characters (multiline: newline, carriage return and tab are allowed). */
int text_check(const hv *v, size_t max, bool multiline, const char *what, char *why, size_t len);

/* 0, or -1 with why: every key and string of the request `cmd` passes text_check with its
 * field's limit (a list's strings take the limit of the list's key). Empty strings pass here:
 * whether a field may be empty is its command's business. */
int text_check_request(const char *cmd, const hv *req, char *why, size_t len);

/* The limit of one field of a command (HK_TEXT_UNREAD_MAX without a row), for tests and docs. */
size_t text_limit(const char *cmd, const char *field, bool *multiline);

#endif
