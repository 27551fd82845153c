/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Output of untrusted strings (paths, user names) as terminal text. */
#ifndef LK_CTL_OUTPUT_H
#define LK_CTL_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF). */
size_t utf8_valid_len(const unsigned char *s);

/* Write s for a terminal: control characters, DEL and backslash become
 * \xNN / \\ so a hostile path cannot move the cursor or fake table rows. */
void text_print_escaped(FILE *f, const char *s);

/* Lowercase hex of a key identifier into out (2*len+1 bytes). */
void hex_format(const uint8_t *in, size_t len, char *out);

#endif
