import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { buildCSR, ecdsaSignatureToDER, generateKeyPair } from '../csr.js';
import { decode, decodeOID, fromPEM, toHex, toPEM } from '../der.js';
import { run, tempDir } from './helpers.mjs';

const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

test('generateKeyPair makes an extractable ECDSA P-256 key pair', async () => {
  const { privateKey, publicKey } = await generateKeyPair();
  for (const key of [privateKey, publicKey]) {
    assert.equal(key.algorithm.name, 'ECDSA');
    assert.equal(key.algorithm.namedCurve, 'P-256');
  }
  assert.equal(privateKey.extractable, true);
  assert.deepEqual(privateKey.usages, ['sign']);
  assert.deepEqual(publicKey.usages, ['verify']);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', privateKey));
  assert.equal(decode(pkcs8).tag, 0x30);
});

test('ecdsaSignatureToDER', async (t) => {
  const r = (first) => first + '11'.repeat(31);
  const cases = [
    ['plain halves', r('01') + r('02'), `3044 0220${r('01')} 0220${r('02')}`],
    ['high bit set: a zero byte is added', r('80') + r('ff'), `3046 022100${r('80')} 022100${r('ff')}`],
    ['leading zeros are dropped', '0000' + '11'.repeat(30) + '007f' + '11'.repeat(30),
      `3041 021e${'11'.repeat(30)} 021f7f${'11'.repeat(30)}`],
  ];
  for (const [name, raw, want] of cases) {
    await t.test(name, () => assert.equal(toHex(ecdsaSignatureToDER(hex(raw))), want.replace(/ /g, '')));
  }
  await t.test('odd length is refused', () => assert.throws(() => ecdsaSignatureToDER(new Uint8Array(63)), RangeError));
});

// opensslReq runs `openssl req -noout -verify -text` (and more arguments)
// on the PEM CSR and returns its exit status and output.
function opensslReq(t, pem, ...args) {
  const file = join(tempDir(t), 'csr.pem');
  writeFileSync(file, pem);
  const r = run('openssl', ['req', '-in', file, '-noout', '-verify', '-text', '-nameopt', 'utf8,sep_comma_plus_space', ...args]);
  return { status: r.status, out: r.stdout + r.stderr };
}

test('buildCSR: openssl verifies the request', async (t) => {
  const cases = [
    ['ASCII login ID', 'tanaka01'],
    ['Japanese name', '田中 花子'],
    ['long name', 'x'.repeat(200)],
  ];
  for (const [name, cn] of cases) {
    await t.test(name, async (t) => {
      const keyPair = await generateKeyPair();
      const pem = await buildCSR(keyPair, cn);
      assert.match(pem, /^-----BEGIN CERTIFICATE REQUEST-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE REQUEST-----\n$/);
      const { status, out } = opensslReq(t, pem);
      assert.equal(status, 0, out);
      assert.match(out, /verify OK/);
      assert.match(out, new RegExp(`Subject: CN=${cn}\n`));
      assert.match(out, /Public Key Algorithm: id-ecPublicKey/);
      assert.match(out, /Public-Key: \(256 bit\)/);
      assert.match(out, /ASN1 OID: prime256v1/);
      assert.match(out, /NIST CURVE: P-256/);
      assert.match(out, /Signature Algorithm: ecdsa-with-SHA256/);
      assert.match(out, /Attributes:\n\s+\(none\)/);

      // The public key in the request is the key pair's.
      const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keyPair.publicKey));
      const pub = opensslReq(t, pem, '-pubkey');
      assert.equal(pub.status, 0, pub.out);
      assert.ok(pub.out.includes(toPEM('PUBLIC KEY', spki)), pub.out);
    });
  }
});

test('buildCSR: the layout of the request', async () => {
  const keyPair = await generateKeyPair();
  const [der] = fromPEM(await buildCSR(keyPair, 'kato0001'), 'CERTIFICATE REQUEST');
  const [info, alg, sig] = decode(der).children;
  const [version, subject, spki, attributes] = info.children;
  assert.equal(toHex(version.content), '00');
  const atv = subject.children[0].children[0].children;
  assert.equal(decodeOID(atv[0].content), '2.5.4.3');
  assert.equal(atv[1].tag, 0x0c, 'CN as UTF8String');
  assert.equal(new TextDecoder().decode(atv[1].content), 'kato0001');
  assert.deepEqual(spki.content, decode(new Uint8Array(await crypto.subtle.exportKey('spki', keyPair.publicKey))).content);
  assert.equal(toHex(attributes.content), '');
  assert.equal(attributes.tag, 0xa0);
  assert.equal(alg.children.length, 1, 'ecdsa-with-SHA256 has no parameters');
  assert.equal(decodeOID(alg.children[0].content), '1.2.840.10045.4.3.2');
  assert.equal(sig.content[0], 0, 'no unused bits');

  // WebCrypto verifies the signature once it is raw r || s again.
  const [r, s] = decode(sig.content.subarray(1)).children.map((i) => {
    const v = i.content[0] === 0 ? i.content.subarray(1) : i.content;
    const out = new Uint8Array(32);
    out.set(v, 32 - v.length);
    return out;
  });
  const raw = new Uint8Array([...r, ...s]);
  const start = decode(der).header;
  const infoDER = der.subarray(start, start + info.header + info.content.length);
  assert.ok(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, keyPair.publicKey, raw, infoDER));
});

test('buildCSR: openssl refuses a tampered request', async (t) => {
  const keyPair = await generateKeyPair();
  const [der] = fromPEM(await buildCSR(keyPair, 'tanaka01'), 'CERTIFICATE REQUEST');
  // Change one letter of the common name: the signature no longer matches.
  const i = toHex(der).indexOf(toHex(new TextEncoder().encode('tanaka01'))) / 2;
  der[i] ^= 0x01;
  // (OpenSSL 3.0 still exits 0 here: the message is what tells.)
  const { out } = opensslReq(t, toPEM('CERTIFICATE REQUEST', der));
  assert.match(out, /Subject: CN=uanaka01\n/);
  assert.match(out, /verify failure/);
  assert.doesNotMatch(out, /verify OK/);
});

test('buildCSR refuses an empty common name', async () => {
  const keyPair = await generateKeyPair();
  await assert.rejects(buildCSR(keyPair, ''), TypeError);
});
