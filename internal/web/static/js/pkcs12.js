// pkcs12.js: the PKCS#12 file (RFC 7292) that carries the user's key and
// certificate into the operating system's certificate store, built in the
// browser with WebCrypto.
//
//   buildPKCS12({privateKey, certificateDER, chainDER, password, friendlyName})
//       the PFX file as a Uint8Array, laid out as `openssl pkcs12 -export`
//       of OpenSSL 3 lays it out by default, which Windows 10 (1709 and
//       later) and 11, macOS and NSS import:
//       - an AuthenticatedSafe of two ContentInfos: the certificates in an
//         encryptedData, then the key as a pkcs8ShroudedKeyBag in a data;
//       - both encrypted with PBES2: PBKDF2-HMAC-SHA-256 over the password
//         as UTF-8, 2048 iterations, an 8-byte salt, AES-256-CBC with a
//         16-byte IV, fresh salt and IV for each;
//       - friendlyName (BMPString, left out when empty) and localKeyID
//         (SHA-1 of the certificate) on the key bag and the certificate's
//         bag; the chain's certificates, after it, carry no attributes;
//       - MacData: HMAC-SHA-256 with an 8-byte salt and 2048 iterations,
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

const ITERATIONS = 2048;
const SALT_LENGTH = 8; // a 16-byte MAC salt breaks the import on macOS

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
    let A = await sha('SHA-256', concat(D, I));
    for (let r = 1; r < iterations; r++) A = await sha('SHA-256', A);
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
