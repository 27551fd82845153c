/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Escrow slots: P wrapped under a key that only the holder of an offline
 * X25519 private key can recompute (include/latchkey/format.h).
 *
 *   (V2 slots bind W to the uid, user name and machine id too: see format.h.)
 *   seal (on the machine, knows only the recipient's public key R):
 *     e random, E = X25519(e, 9), W = HKDF-SHA256(X25519(e, R), salt "",
 *     LK_INFO_ESCROW || E || R); e is wiped, E is stored as the slot's salt.
 *   open (offline, knows r with R = X25519(r, 9), is given E):
 *     W = HKDF-SHA256(X25519(r, E), salt "", LK_INFO_ESCROW || E || R).
 *
 * Each slot has its own E, so a W opens that one slot and nothing else.
 * Private keys, shared secrets and W belong in secret memory (lib/secret.h);
 * the functions here wipe their own intermediates. All return 0 or a
 * negative errno; outputs are written only on success.
 */
#ifndef LK_ESCROW_H
#define LK_ESCROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "latchkey/format.h"

#define LK_ESCROW_KEY_SIZE         32           /* X25519 private key, public key, shared secret */
#define LK_ESCROW_PEM_MAX          1024         /* either PEM form is ~120 bytes; room for comments */
#define LK_ESCROW_FINGERPRINT_SIZE (2 * 32 + 1) /* hex SHA-256 of the raw public key */

/* A fresh private key (random bytes; X25519 clamps them) and its public key. */
int lk_escrow_keygen(uint8_t priv[LK_ESCROW_KEY_SIZE], uint8_t pub[LK_ESCROW_KEY_SIZE]);

/* pub = X25519(priv, 9). */
int lk_escrow_public_from_private(const uint8_t priv[LK_ESCROW_KEY_SIZE], uint8_t pub[LK_ESCROW_KEY_SIZE]);

/* shared = X25519(priv, peer). -EINVAL when the result is all zero (peer is a
 * low-order point: an attacker's E or R that would make W predictable). */
int lk_escrow_x25519(const uint8_t priv[LK_ESCROW_KEY_SIZE], const uint8_t peer[LK_ESCROW_KEY_SIZE],
                     uint8_t shared[LK_ESCROW_KEY_SIZE]);

/* What a V2 escrow slot's W is bound to (format.h): the offline holder sees
 * these on the request line and confirms them. */
struct lk_escrow_binding {
	uint32_t uid;
	const char *user; /* 1..LK_BOUND_NAME_MAX bytes */
	uint8_t machine_id[LK_MACHINE_ID_SIZE];
};
bool lk_escrow_binding_is_valid(const struct lk_escrow_binding *b);

/* V2: as below, with W bound to b (uid, user name, machine id). */
int lk_escrow_seal_bound(const uint8_t R[LK_ESCROW_KEY_SIZE], const struct lk_escrow_binding *b,
                         uint8_t E[LK_ESCROW_KEY_SIZE], uint8_t W[32]);
int lk_escrow_seal_bound_with(const uint8_t e[LK_ESCROW_KEY_SIZE], const uint8_t R[LK_ESCROW_KEY_SIZE],
                              const struct lk_escrow_binding *b, uint8_t E[LK_ESCROW_KEY_SIZE],
                              uint8_t W[32]);
int lk_escrow_open_bound(const uint8_t r[LK_ESCROW_KEY_SIZE], const uint8_t E[LK_ESCROW_KEY_SIZE],
                         const struct lk_escrow_binding *b, uint8_t W[32]);

/* V1 (unbound; still opens the V1 slots made before): seal to recipient R
 * with a fresh ephemeral key: E (public) and W (secret). */
int lk_escrow_seal(const uint8_t R[LK_ESCROW_KEY_SIZE], uint8_t E[LK_ESCROW_KEY_SIZE], uint8_t W[32]);

/* The same with a given ephemeral private key e: for known-answer tests. */
int lk_escrow_seal_with(const uint8_t e[LK_ESCROW_KEY_SIZE], const uint8_t R[LK_ESCROW_KEY_SIZE],
                        uint8_t E[LK_ESCROW_KEY_SIZE], uint8_t W[32]);

/* W for the slot whose salt is E, with the recipient's private key r. */
int lk_escrow_open(const uint8_t r[LK_ESCROW_KEY_SIZE], const uint8_t E[LK_ESCROW_KEY_SIZE], uint8_t W[32]);

/*
 * PEM. Private keys are PKCS#8 ("BEGIN PRIVATE KEY"), public keys
 * SubjectPublicKeyInfo ("BEGIN PUBLIC KEY"), both X25519 only. The _to_
 * functions write a NUL-terminated PEM of at most cap bytes (give secret
 * memory for a private key). The _from_ functions parse pem[0..len) and
 * return -EINVAL for anything that is not one X25519 key of that kind
 * (-ENOKEY for an encrypted private key, which we do not read).
 */
int lk_escrow_private_to_pem(const uint8_t priv[LK_ESCROW_KEY_SIZE], char *out, size_t cap, size_t *ret_len);
int lk_escrow_public_to_pem(const uint8_t pub[LK_ESCROW_KEY_SIZE], char *out, size_t cap, size_t *ret_len);
int lk_escrow_private_from_pem(const char *pem, size_t len, uint8_t priv[LK_ESCROW_KEY_SIZE]);
int lk_escrow_public_from_pem(const char *pem, size_t len, uint8_t pub[LK_ESCROW_KEY_SIZE]);

/* Lowercase hex SHA-256 of the raw public key, for humans to compare the key
 * installed on a machine with the one made offline. */
int lk_escrow_fingerprint(const uint8_t pub[LK_ESCROW_KEY_SIZE], char out[LK_ESCROW_FINGERPRINT_SIZE]);

#endif
