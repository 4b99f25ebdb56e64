// pkcs12.js: the PKCS#12 file (RFC 7292) that carries the user's key and
// certificate into the operating system's certificate store, built in the
// browser with WebCrypto.
//
//   buildPKCS12({privateKey, certificateDER, chainDER, password, friendlyName})
//       the PFX file as a Uint8Array, laid out as `openssl pkcs12 -export
//       -iter 600000` of OpenSSL 3 lays it out, which Windows 10 (1709 and
//       later) and 11, macOS and NSS import:
//       - an AuthenticatedSafe of two ContentInfos: the certificates in an
//         encryptedData, then the key as a pkcs8ShroudedKeyBag in a data;
//       - both encrypted with PBES2: PBKDF2-HMAC-SHA-256 over the password
//         as UTF-8, 600,000 iterations (ITERATIONS), an 8-byte salt, AES-256-CBC with a
//         16-byte IV, fresh salt and IV for each;
//       - friendlyName (BMPString, left out when empty) and localKeyID
//         (SHA-1 of the certificate) on the key bag and the certificate's
//         bag; the chain's certificates, after it, carry no attributes;
//       - MacData: HMAC-SHA-256 with an 8-byte salt and 600,000 iterations,
//         its key made by the PKCS#12 KDF from the password as BMPString.
//       privateKey: an extractable ECDSA P-256 CryptoKey (the certificate's
//       public key must be its own); certificateDER: Uint8Array; chainDER:
//       array of Uint8Array, may be left out; password: a non-empty string;
//       friendlyName: a string, may be left out.
//   pkcs12KDF(passwordBMP, salt, id, iterations, length)
//       RFC 7292 appendix B.2 with SHA-256: id 1 for keys, 2 for IVs, 3 for
//       MAC keys; passwordBMP as from bmpPassword.
//   bmpPassword(password)
//       the password as RFC 7292 wants it for the MAC: UTF-16BE followed by
//       two zero bytes.

import { bmpString, concat, decode, explicit, implicit, integer, nullValue, octetString, oid, sequence, set } from './der.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.2', // pkcs8ShroudedKeyBag
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyID: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSHA256: '1.2.840.113549.2.9',
  aes256CBC: '2.16.840.1.101.3.4.1.42',
  sha256: '2.16.840.1.101.3.4.2.1',
};

// ITERATIONS is the iteration count of PBKDF2 (both PBES2 encryptions) and
// of the MAC's PKCS#12 KDF: 600,000, as OWASP's Password Storage Cheat
// Sheet asks for PBKDF2-HMAC-SHA-256. The MAC counts as much as the
// encryption: it is a check of the password too, and an attacker who has
// the file would guess against whichever is cheaper. Measured in Node 20
// on a busy 2-core machine: PBKDF2 about 0.4 s per encryption (WebCrypto),
// the MAC's KDF 0.4 to 1.1 s (sha256Repeat), so one to two seconds for the
// file, once, after the certificate is issued.
const ITERATIONS = 600_000;
const SALT_LENGTH = 8; // a 16-byte MAC salt breaks the import on macOS

// SHA-256 (FIPS 180-4): the round constants and the initial hash value.
const K = Uint32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const H0 = Uint32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

// sha256Repeat returns SHA-256 applied n times to a 32-byte digest, in
// plain JavaScript and without allocating: the inner loop of the PKCS#12
// KDF. Each crypto.subtle.digest call costs a promise and copies: 100,000
// rounds of it took 6 seconds in Node 20, where 600,000 of these take
// under one. (The first hash, of D || I, stays with WebCrypto; the
// KDF's test against OpenSSL checks both.)
function sha256Repeat(digest, n) {
  const w = new Uint32Array(64);
  const h = new Uint32Array(8);
  for (let i = 0; i < 8; i++) h[i] = (digest[4 * i] << 24) | (digest[4 * i + 1] << 16) | (digest[4 * i + 2] << 8) | digest[4 * i + 3];
  for (let round = 0; round < n; round++) {
    for (let i = 0; i < 8; i++) w[i] = h[i];
    w[8] = 0x80000000;
    for (let i = 9; i < 15; i++) w[i] = 0;
    w[15] = 256;
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15], y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = H0[0], b = H0[1], c = H0[2], d = H0[3], e = H0[4], f = H0[5], g = H0[6], hh = H0[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] = H0[0] + a; h[1] = H0[1] + b; h[2] = H0[2] + c; h[3] = H0[3] + d;
    h[4] = H0[4] + e; h[5] = H0[5] + f; h[6] = H0[6] + g; h[7] = H0[7] + hh;
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) { out[4 * i] = h[i] >>> 24; out[4 * i + 1] = h[i] >>> 16; out[4 * i + 2] = h[i] >>> 8; out[4 * i + 3] = h[i]; }
  return out;
}

function random(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

async function sha(name, data) {
  return new Uint8Array(await crypto.subtle.digest(name, data));
}

export function bmpPassword(password) {
  return concat(decode(bmpString(password)).content, new Uint8Array(2));
}

export async function pkcs12KDF(passwordBMP, salt, id, iterations, length) {
  const u = 32; // SHA-256 output
  const v = 64; // SHA-256 block
  const stretch = (src, n) => Uint8Array.from({ length: n }, (_, i) => src[i % src.length]);
  const D = new Uint8Array(v).fill(id);
  const I = concat(
    stretch(salt, v * Math.ceil(salt.length / v)),
    stretch(passwordBMP, v * Math.ceil(passwordBMP.length / v)),
  );
  const out = new Uint8Array(length);
  for (let off = 0; ; off += u) {
    const A = sha256Repeat(await sha('SHA-256', concat(D, I)), iterations - 1);
    out.set(A.subarray(0, Math.min(u, length - off)), off);
    if (off + u >= length) return out;
    // I_j = (I_j + B + 1) mod 2^(8v) for every v-byte block of I.
    const B = stretch(A, v);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const x = I[j + k] + B[k] + carry;
        I[j + k] = x & 0xff;
        carry = x >> 8;
      }
    }
  }
}

// pbes2Encrypt encrypts data under PBES2 (PBKDF2-HMAC-SHA-256, AES-256-CBC)
// and returns the AlgorithmIdentifier and the ciphertext.
async function pbes2Encrypt(password, data) {
  const salt = random(SALT_LENGTH);
  const iv = random(16);
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, ['deriveKey']);
  const key = await crypto.subtle.deriveKey(
    { name: 'PBKDF2', salt, iterations: ITERATIONS, hash: 'SHA-256' },
    base,
    { name: 'AES-CBC', length: 256 },
    false,
    ['encrypt'],
  );
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CBC', iv }, key, data));
  const algorithm = sequence(
    oid(OID.pbes2),
    sequence(
      sequence(
        oid(OID.pbkdf2),
        sequence(octetString(salt), integer(ITERATIONS), sequence(oid(OID.hmacWithSHA256), nullValue())),
      ),
      sequence(oid(OID.aes256CBC), octetString(iv)),
    ),
  );
  return { algorithm, ciphertext };
}

function attribute(type, value) {
  return sequence(oid(type), set(value));
}

function certBag(der, attributes) {
  const bag = explicit(0, sequence(oid(OID.x509Certificate), explicit(0, octetString(der))));
  return attributes ? sequence(oid(OID.certBag), bag, attributes) : sequence(oid(OID.certBag), bag);
}

// checkKeyMatches throws unless the certificate's public key is the public
// half of privateKey (an EC key), so that a mix-up cannot make a file that
// no system can use.
async function checkKeyMatches(privateKey, certificateDER) {
  const jwk = await crypto.subtle.exportKey('jwk', privateKey);
  if (jwk.kty !== 'EC') throw new TypeError('pkcs12: only EC keys are supported');
  const b64url = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const point = concat(Uint8Array.of(4), b64url(jwk.x), b64url(jwk.y));
  const tbs = decode(certificateDER).children[0].children;
  const spki = tbs[tbs[0].tag === 0xa0 ? 6 : 5];
  const bits = spki.children[1].content.subarray(1); // after the unused-bits octet
  if (bits.length !== point.length || bits.some((b, i) => b !== point[i])) {
    throw new Error('pkcs12: the certificate is not for this key');
  }
}

export async function buildPKCS12({ privateKey, certificateDER, chainDER = [], password, friendlyName = '' }) {
  if (typeof password !== 'string' || password === '') throw new TypeError('pkcs12: empty password');
  if (!(certificateDER instanceof Uint8Array) || !chainDER.every((c) => c instanceof Uint8Array)) {
    throw new TypeError('pkcs12: certificates must be DER in a Uint8Array');
  }
  await checkKeyMatches(privateKey, certificateDER);

  const localKeyID = await sha('SHA-1', certificateDER);
  const attributes = set(
    ...(friendlyName ? [attribute(OID.friendlyName, bmpString(friendlyName))] : []),
    attribute(OID.localKeyID, octetString(localKeyID)),
  );

  // (a) The certificates, encrypted.
  const certs = sequence(certBag(certificateDER, attributes), ...chainDER.map((der) => certBag(der, null)));
  const encCerts = await pbes2Encrypt(password, certs);
  const certsInfo = sequence(
    oid(OID.encryptedData),
    explicit(0, sequence(
      integer(0),
      sequence(oid(OID.data), encCerts.algorithm, implicit(0, octetString(encCerts.ciphertext))),
    )),
  );

  // (b) The key, shrouded, in plain data.
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', privateKey));
  const encKey = await pbes2Encrypt(password, pkcs8);
  const keyBag = sequence(
    oid(OID.keyBag),
    explicit(0, sequence(encKey.algorithm, octetString(encKey.ciphertext))),
    attributes,
  );
  const keyInfo = sequence(oid(OID.data), explicit(0, octetString(sequence(keyBag))));

  const authSafe = sequence(certsInfo, keyInfo);

  // The MAC over the AuthenticatedSafe's encoding.
  const macSalt = random(SALT_LENGTH);
  const macKeyBytes = await pkcs12KDF(bmpPassword(password), macSalt, 3, ITERATIONS, 32);
  const macKey = await crypto.subtle.importKey('raw', macKeyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', macKey, authSafe));
  const macData = sequence(
    sequence(sequence(oid(OID.sha256), nullValue()), octetString(mac)),
    octetString(macSalt),
    integer(ITERATIONS),
  );

  return sequence(integer(3), sequence(oid(OID.data), explicit(0, octetString(authSafe))), macData);
}
