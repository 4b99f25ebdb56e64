// csr.js: the key pair and the certificate signing request, made in the
// browser with WebCrypto. The private key never leaves the page.
//
//   generateKeyPair()             an ECDSA P-256 CryptoKeyPair. The private
//                                 key is extractable, because the PKCS#12
//                                 file (pkcs12.js) needs it as PKCS#8.
//                                 Throws where the page has no WebCrypto
//                                 (a page not served over HTTPS).
//   buildCSR(keyPair, commonName) the PEM text of a PKCS#10
//                                 CertificationRequest (RFC 2986) with the
//                                 subject CN=commonName (UTF8String), the
//                                 public key, no attributes, signed with
//                                 ecdsa-with-SHA256.
//   ecdsaSignatureToDER(raw)      a WebCrypto ECDSA signature (r || s, each
//                                 half as long as the whole) as a DER
//                                 Ecdsa-Sig-Value SEQUENCE { r INTEGER,
//                                 s INTEGER } (RFC 3279).

import { bitString, implicit, integer, oid, sequence, set, toPEM, utf8String } from './der.js';

const OID_COMMON_NAME = '2.5.4.3';
const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' };

export async function generateKeyPair() {
  if (!globalThis.crypto?.subtle) throw new Error('csr: WebCrypto is not available (the page must be served over HTTPS)');
  return crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
}

export function ecdsaSignatureToDER(raw) {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new RangeError(`csr: bad ECDSA signature length ${raw.length}`);
  const half = raw.length / 2;
  return sequence(integer(raw.subarray(0, half)), integer(raw.subarray(half)));
}

export async function buildCSR(keyPair, commonName) {
  if (typeof commonName !== 'string' || commonName === '') throw new TypeError('csr: empty common name');
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keyPair.publicKey));
  const subject = sequence(set(sequence(oid(OID_COMMON_NAME), utf8String(commonName))));
  const info = sequence(
    integer(0), // version v1
    subject,
    spki,
    implicit(0, set()), // attributes: none
  );
  const raw = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keyPair.privateKey, info));
  const request = sequence(
    info,
    sequence(oid(OID_ECDSA_WITH_SHA256)), // no parameters (RFC 5758)
    bitString(ecdsaSignatureToDER(raw)),
  );
  return toPEM('CERTIFICATE REQUEST', request);
}

