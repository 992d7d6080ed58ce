/*-------------------------------------------------------------------------
 *
 * il_vault.c
 *	  Keys of the credentials vault (see il_vault.h for the definitions).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "il_kdf.h"
#include "il_sha256.h"
#include "il_vault.h"

#define KEY_CHECK_LABEL "ironlayer vault key check v1"
#define FINGERPRINT_LABEL "ironlayer vault fingerprint v1"

void
il_vault_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

int
il_vault_read_master(const char *path, il_buf *key, il_error *err)
{
	FILE	   *f;
	char		chunk[1024];
	size_t		n;

	il_buf_reset(key);
	f = fopen(path, "rb");
	if (f == NULL)
	{
		il_error_set(err, IL_ERR_KEY_FILE_UNREADABLE, 0, 0,
					 "could not open the master key file \"%s\": %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
	{
		il_buf_append(key, chunk, n);
		if (key->len > IL_VAULT_MAX_MASTER + 2)
			break;
	}
	il_vault_wipe(chunk, sizeof(chunk));
	if (ferror(f))
	{
		fclose(f);
		il_error_set(err, IL_ERR_KEY_FILE_UNREADABLE, 0, 0,
					 "could not read the master key file \"%s\"", path);
		return -1;
	}
	fclose(f);
	if (key->oom)
	{
		il_error_set(err, IL_ERR_OUT_OF_MEMORY, 0, 0, "out of memory");
		return -1;
	}
	if (key->len > 0 && key->data[key->len - 1] == '\n')
	{
		key->len--;
		if (key->len > 0 && key->data[key->len - 1] == '\r')
			key->len--;
	}
	if (key->len < IL_VAULT_MIN_MASTER || key->len > IL_VAULT_MAX_MASTER)
	{
		il_error_set(err, IL_ERR_KEY_FILE_BAD_LENGTH, 0, 0,
					 "the master key file \"%s\" must hold %d to %d bytes, not %zu",
					 path, IL_VAULT_MIN_MASTER, IL_VAULT_MAX_MASTER, key->len);
		il_vault_wipe(key->data, key->cap);
		il_buf_reset(key);
		return -1;
	}
	return 0;
}

int
il_vault_derive(const uint8_t *master, size_t len,
				const uint8_t *salt, size_t saltlen, uint32_t iterations,
				uint8_t root[IL_VAULT_ROOT_LEN], il_error *err)
{
	if (iterations < IL_VAULT_MIN_ITERATIONS)
	{
		il_error_set(err, IL_ERR_TOO_FEW_ITERATIONS, 0, 0,
					 "PBKDF2 needs at least %d iterations, not %u", IL_VAULT_MIN_ITERATIONS, iterations);
		return -1;
	}
	if (il_pbkdf2_sha256(master, len, salt, saltlen, iterations, root, IL_VAULT_ROOT_LEN) != 0)
	{
		il_error_set(err, IL_ERR_KDF_FAILED, 0, 0, "PBKDF2-HMAC-SHA256 failed");
		return -1;
	}
	return 0;
}

/* HMAC-SHA256(root, label [|| 0x00 || data]). */
static int
hmac_label(const uint8_t root[IL_VAULT_ROOT_LEN], const char *label,
		   const uint8_t *data, size_t len, uint8_t out[32])
{
	il_buf		msg = IL_BUF_INIT;
	unsigned int n = 0;
	int			ok;

	il_buf_puts(&msg, label);
	if (data != NULL)
	{
		il_buf_putc(&msg, '\0');
		il_buf_append(&msg, data, len);
	}
	ok = !msg.oom
		&& HMAC(EVP_sha256(), root, IL_VAULT_ROOT_LEN,
				(const unsigned char *) msg.data, msg.len, out, &n) != NULL
		&& n == 32;
	il_vault_wipe(msg.data, msg.cap);
	il_buf_free(&msg);
	return ok ? 0 : -1;
}

int
il_vault_key_check(const uint8_t root[IL_VAULT_ROOT_LEN], uint8_t out[32])
{
	return hmac_label(root, KEY_CHECK_LABEL, NULL, 0, out);
}

int
il_vault_fingerprint(const uint8_t root[IL_VAULT_ROOT_LEN],
					 const uint8_t *secret, size_t len,
					 char out[IL_VAULT_FINGERPRINT_LEN + 1])
{
	uint8_t		mac[32];

	if (hmac_label(root, FINGERPRINT_LABEL, secret, len, mac) != 0)
		return -1;
	il_hex_encode(mac, IL_VAULT_FINGERPRINT_LEN / 2, out);
	il_vault_wipe(mac, sizeof(mac));
	return 0;
}
