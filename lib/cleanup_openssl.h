/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cleanup helpers for the OpenSSL types latchkey uses. Apart from
 * cleanup.h so that only code linking libcrypto includes OpenSSL. */
#ifndef LK_CLEANUP_OPENSSL_H
#define LK_CLEANUP_OPENSSL_H

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "cleanup.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_CIPHER_CTX *, evp_cipher_ctx_freep, EVP_CIPHER_CTX_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, evp_md_ctx_freep, EVP_MD_CTX_free)
/* For X25519 keys, EVP_PKEY_free cleanses the private bytes it copied. */
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, evp_pkey_freep, EVP_PKEY_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY_CTX *, evp_pkey_ctx_freep, EVP_PKEY_CTX_free)
/* EVP_KDF_CTX_free cleanses the PRK it holds. */
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_KDF_CTX *, evp_kdf_ctx_freep, EVP_KDF_CTX_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_KDF *, evp_kdf_freep, EVP_KDF_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, bio_freep, BIO_free)

#endif
