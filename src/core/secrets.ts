import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (per-portal MTS passwords and tokens): AES-256-GCM with a key derived from
 * SECRET_KEY. The stored form is `v1:<iv>:<tag>:<ciphertext>` in base64url, so a wrong key is
 * detected (the tag does not verify) instead of yielding garbage.
 */
function keyFrom(secretKey: string): Buffer {
  return createHash('sha256').update(`b24-mts-sms:v1:${secretKey}`).digest();
}

export function encryptSecret(plain: string, secretKey: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFrom(secretKey), iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), body]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join(':');
}

export function decryptSecret(stored: string, secretKey: string): string {
  const [v, iv, tag, body] = stored.split(':');
  if (v !== 'v1' || !iv || !tag || body === undefined)
    throw new Error('stored secret has an unknown format');
  const decipher = createDecipheriv(
    'aes-256-gcm',
    keyFrom(secretKey),
    Buffer.from(iv, 'base64url'),
  );
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([
      decipher.update(Buffer.from(body, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new Error(
      'cannot decrypt a stored MTS secret: SECRET_KEY differs from the one it was stored with',
    );
  }
}
