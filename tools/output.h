/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Output of untrusted strings (paths, user names) as JSON or terminal text. */
#ifndef LK_CTL_OUTPUT_H
#define LK_CTL_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Write s as a JSON string literal, quotes included. '"', '\\' and control
 * characters are escaped; valid UTF-8 passes through; each byte of an
 * invalid UTF-8 sequence becomes U+FFFD, because JSON must be UTF-8 and a
 * path may be any bytes.
 */
void json_print_string(FILE *f, const char *s);

/* Write s for a terminal: control characters, DEL and backslash become
 * \xNN / \\ so a hostile path cannot move the cursor or fake table rows. */
void text_print_escaped(FILE *f, const char *s);

/* Lowercase hex of a key identifier into out (2*len+1 bytes). */
void hex_format(const uint8_t *in, size_t len, char *out);

#endif
