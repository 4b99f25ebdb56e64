import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { buildCSR, generateKeyPair } from '../csr.js';
import { decode, decodeOID, toHex, toPEM } from '../der.js';
import { bmpPassword, buildPKCS12, pkcs12KDF } from '../pkcs12.js';
import { certificateDER, makeCA, openssl, readBytes, run, signCSR, tempDir, writePrivateKey } from './helpers.mjs';

const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

test('bmpPassword', async (t) => {
  const cases = [
    ['ASCII', 'pw', '007000770000'],
    ['Japanese', '金庫', '91d15eab0000'],
    ['outside the BMP: a surrogate pair, as OpenSSL makes it', '𠮷', 'd842dfb70000'],
  ];
  for (const [name, password, want] of cases) {
    await t.test(name, () => assert.equal(toHex(bmpPassword(password)), want));
  }
});

test('pkcs12KDF matches OpenSSL', async (t) => {
  const cases = [
    // name, password, salt (hex), id, iterations, length
    ['MAC key, as in the file', 'pw', '0102030405060708', 3, 600000, 32],
    ['MAC key, fewer iterations', 'pw', '0102030405060708', 3, 2048, 32],
    ['key, one iteration', 'Hikari-Tanaka1', 'aabbccdd', 1, 1, 32],
    ['IV, two blocks of output', '金庫のパスワード', '00'.repeat(8), 2, 5, 48],
    ['long salt and password, three blocks', 'p'.repeat(40), 'ff'.repeat(70), 1, 3, 80],
  ];
  for (const [name, password, salt, id, iterations, length] of cases) {
    await t.test(name, async () => {
      const got = await pkcs12KDF(bmpPassword(password), hex(salt), id, iterations, length);
      const want = openssl(['kdf', '-keylen', String(length), '-kdfopt', 'digest:SHA256',
        '-kdfopt', `hexpass:${toHex(bmpPassword(password))}`, '-kdfopt', `hexsalt:${salt}`,
        '-kdfopt', `iter:${iterations}`, '-kdfopt', `id:${id}`, 'PKCS12KDF']).trim().replace(/:/g, '').toLowerCase();
      assert.equal(toHex(got), want);
    });
  }
});

// issue makes a key pair, has a test CA sign its CSR, and returns the key
// pair, the certificate (DER and PEM path) and the CA certificate (DER).
async function issue(dir, ca, { v1 = false } = {}) {
  const keyPair = await generateKeyPair();
  const certPath = signCSR(dir, ca, await buildCSR(keyPair, 'tanaka01'), 'tanaka01', { v1 });
  return { keyPair, certPath, cert: certificateDER(dir, certPath), caDER: certificateDER(dir, ca.cert) };
}

function writeFile(dir, name, data) {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

test('buildPKCS12: OpenSSL reads the file', async (t) => {
  const dir = tempDir(t);
  const ca = makeCA(dir);
  const cases = [
    // name, password, friendlyName, with the chain, an X.509 v1 certificate
    ['ASCII password and name, with chain', 'Kinko-File-1', 'tanaka01 kinko', true, false],
    ['Japanese password and name, no chain', 'ファイル用パスワード', '田中 花子', false, false],
    ['no friendlyName, X.509 v1 certificate', 'x', '', true, true],
  ];
  for (const [name, password, friendlyName, withChain, v1] of cases) {
    await t.test(name, async () => {
      const { keyPair, certPath, cert, caDER } = await issue(dir, ca, { v1 });
      const p12 = await buildPKCS12({
        privateKey: keyPair.privateKey, certificateDER: cert, chainDER: withChain ? [caDER] : undefined,
        password, friendlyName,
      });
      const file = writeFile(dir, 'out.p12', p12);
      const pass = `pass:${password}`;

      const info = run('openssl', ['pkcs12', '-in', file, '-passin', pass, '-info', '-noout']);
      assert.equal(info.status, 0, info.stderr);
      assert.deepEqual(info.stderr.split('\n').filter((l) => l !== ''), [
        'MAC: sha256, Iteration 600000',
        'MAC length: 32, salt length: 8',
        'PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256',
        'Certificate bag',
        ...(withChain ? ['Certificate bag'] : []),
        'PKCS7 Data',
        'Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256',
      ]);

      // Everything, decrypted.
      const all = run('openssl', ['pkcs12', '-in', file, '-passin', pass, '-nodes']);
      assert.equal(all.status, 0, all.stderr);
      // The key's and the leaf's bags carry localKeyID (SHA-1 of the
      // certificate) and friendlyName; openssl prints them in no fixed
      // order, and a name outside ASCII byte by byte.
      const keyID = toHex(new Uint8Array(await crypto.subtle.digest('SHA-1', cert))).toUpperCase().match(/../g).join(' ');
      const bags = all.stdout.split(/^(?=Bag Attributes)/m);
      const bagAttributes = (b) => b.split('\n').filter((l) => l.startsWith('    ')).map((l) => l.trim()).sort();
      const ascii = /^[\x20-\x7e]*$/.test(friendlyName);
      const want = [`localKeyID: ${keyID}`, ...(friendlyName ? [`friendlyName: ${ascii ? friendlyName : ''}`] : [])].sort();
      const shown = (b) => bagAttributes(b).map((l) => (!ascii && l.startsWith('friendlyName:') ? 'friendlyName: ' : l));
      const keyBags = bags.filter((b) => b.includes('BEGIN PRIVATE KEY'));
      const leafBags = bags.filter((b) => b.includes('subject=CN = tanaka01\n'));
      assert.equal(keyBags.length, 1, all.stdout);
      assert.equal(leafBags.length, 1, all.stdout);
      assert.deepEqual(shown(keyBags[0]), want);
      assert.deepEqual(shown(leafBags[0]), want);
      assert.equal((all.stdout.match(/BEGIN CERTIFICATE/g) ?? []).length, withChain ? 2 : 1);
      if (withChain) assert.match(all.stdout, /Bag Attributes: <No Attributes>\nsubject=O = kinko test, CN = test CA\n/);

      // The key in the file is the certificate's key.
      const keyPEM = openssl(['pkcs12', '-in', file, '-passin', pass, '-nocerts', '-nodes']);
      const certPub = openssl(['x509', '-in', certPath, '-noout', '-pubkey']);
      assert.equal(openssl(['pkey', '-pubout'], { input: keyPEM }), certPub);
      const leaf = openssl(['pkcs12', '-in', file, '-passin', pass, '-clcerts', '-nokeys']);
      assert.equal(openssl(['x509', '-outform', 'DER'], { input: leaf }).length > 0, true);
      assert.equal(openssl(['x509', '-noout', '-fingerprint', '-sha256'], { input: leaf }),
        openssl(['x509', '-in', certPath, '-noout', '-fingerprint', '-sha256']));

      // A wrong password is refused.
      const wrong = run('openssl', ['pkcs12', '-in', file, '-passin', `pass:${password}x`, '-nodes']);
      assert.notEqual(wrong.status, 0);
      assert.match(wrong.stderr, /Mac verify error/);
    });
  }
});

// dump describes a PKCS#12 file as a list of lines, decrypting what is
// encrypted, so that two files can be compared: salts, IVs and the MAC are
// shown by their lengths only, as they are random.
async function dump(p12, password) {
  const lines = [];
  let pbes2 = null; // parameters of the last PBES2 AlgorithmIdentifier seen
  const walk = async (el, depth) => {
    const pad = '  '.repeat(depth);
    const name = `${el.tagClass === 'context' ? `[${el.number}]` : `tag ${el.tag.toString(16)}`} len ${el.content.length}`;
    if (el.tag === 0x06) {
      lines.push(`${pad}OID ${decodeOID(el.content)}`);
    } else if (el.tag === 0x30 && el.children[0]?.tag === 0x06 && decodeOID(el.children[0].content) === '1.2.840.113549.1.5.13') {
      const [kdf, cipher] = el.children[1].children;
      const [salt, iter, prf] = kdf.children[1].children;
      const iv = cipher.children[1];
      pbes2 = { salt: salt.content, iterations: Number(BigInt('0x' + toHex(iter.content))), iv: iv.content };
      lines.push(`${pad}PBES2 ${decodeOID(kdf.children[0].content)} salt(${salt.content.length}) iter ${pbes2.iterations}`
        + ` prf ${decodeOID(prf.children[0].content)} params ${toHex(prf.children[1].content)}`
        + ` cipher ${decodeOID(cipher.children[0].content)} iv tag ${iv.tag} (${iv.content.length})`
        + ` kdf params ${kdf.children[1].children.length}`);
    } else if (pbes2 && (el.tag === 0x04 || el.tag === 0x80)) {
      const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, ['deriveKey']);
      const key = await crypto.subtle.deriveKey({ name: 'PBKDF2', salt: pbes2.salt, iterations: pbes2.iterations, hash: 'SHA-256' },
        base, { name: 'AES-CBC', length: 256 }, false, ['decrypt']);
      const plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-CBC', iv: pbes2.iv }, key, el.content));
      pbes2 = null;
      lines.push(`${pad}${name} encrypted, holding:`);
      await walk(decode(plain), depth + 1);
    } else if (el.constructed) {
      lines.push(`${pad}${name}`);
      for (const c of el.children) await walk(c, depth + 1);
    } else if (el.tag === 0x04 && el.content[0] === 0x30 && (() => { try { decode(el.content); return true; } catch { return false; } })()) {
      lines.push(`${pad}${name} holding:`);
      await walk(decode(el.content), depth + 1);
    } else {
      lines.push(`${pad}${name} ${toHex(el.content)}`);
    }
  };
  const pfx = decode(p12);
  lines.push(`PFX children ${pfx.children.length}`);
  await walk(pfx.children[0], 1);
  await walk(pfx.children[1], 1);
  const [digestInfo, macSalt, macIter] = pfx.children[2].children;
  lines.push(`MacData children ${pfx.children[2].children.length} digest ${decodeOID(digestInfo.children[0].children[0].content)}`
    + ` params ${toHex(digestInfo.children[0].children[1].content)} mac(${digestInfo.children[1].content.length})`
    + ` salt(${macSalt.content.length}) iter ${toHex(macIter.content)}`);
  return lines;
}

test('buildPKCS12: laid out as `openssl pkcs12 -export -iter 600000` lays it out', async (t) => {
  const dir = tempDir(t);
  const ca = makeCA(dir);
  const cases = [
    ['with chain', 'Kinko-File-1', 'tanaka01', true],
    ['without chain, Japanese name and password', 'ファイル用パスワード', '田中 花子', false],
    ['without friendlyName', 'Kinko-File-1', '', false],
  ];
  for (const [name, password, friendlyName, withChain] of cases) {
    await t.test(name, async () => {
      const { keyPair, certPath, cert, caDER } = await issue(dir, ca);
      const ours = await buildPKCS12({
        privateKey: keyPair.privateKey, certificateDER: cert, chainDER: withChain ? [caDER] : [], password, friendlyName,
      });
      const keyPath = await writePrivateKey(dir, 'key.pem', keyPair.privateKey);
      const theirsPath = join(dir, 'openssl.p12');
      // -iter: the encryption's and the MAC's count, ours (OpenSSL's default is 2048).
      openssl(['pkcs12', '-export', '-iter', '600000', '-inkey', keyPath, '-in', certPath, ...(withChain ? ['-certfile', ca.cert] : []),
        ...(friendlyName ? ['-name', friendlyName] : []), '-passout', `pass:${password}`, '-out', theirsPath]);
      const theirs = readBytes(theirsPath);
      const want = await dump(theirs, password);
      assert.deepEqual(await dump(ours, password), want);
      // The dump really looks inside: the key and the certificate are there.
      assert.ok(want.some((l) => l.includes('OID 1.2.840.10045.2.1')), want.join('\n')); // id-ecPublicKey, in the PKCS#8
      assert.ok(want.some((l) => l.includes('OID 1.2.840.113549.1.9.22.1')), want.join('\n'));
    });
  }
});

test('buildPKCS12: NSS (pk12util) imports the file', async (t) => {
  if (spawnSync('pk12util', ['-h']).error || spawnSync('certutil', ['-H']).error) {
    t.skip('pk12util or certutil not installed (Debian package libnss3-tools)');
    return;
  }
  const dir = tempDir(t);
  const ca = makeCA(dir);
  const { keyPair, cert, caDER } = await issue(dir, ca);
  const password = 'Kinko-File-1';
  const p12 = await buildPKCS12({ privateKey: keyPair.privateKey, certificateDER: cert, chainDER: [caDER], password, friendlyName: 'tanaka01 kinko' });
  const file = writeFile(dir, 'out.p12', p12);
  const db = `sql:${dir}`;
  const nss = (cmd, args) => {
    const r = run(cmd, args);
    assert.equal(r.status, 0, `${cmd} ${args.join(' ')}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  nss('certutil', ['-N', '--empty-password', '-d', db]);
  const wrong = run('pk12util', ['-i', file, '-d', db, '-W', 'wrong']);
  assert.notEqual(wrong.status, 0, 'pk12util accepted a wrong password');
  assert.match(nss('pk12util', ['-i', file, '-d', db, '-W', password]), /PKCS12 IMPORT SUCCESSFUL/);
  const keys = nss('certutil', ['-K', '-d', db]);
  assert.match(keys, /<\s*0\s*>\s+ec\s+[0-9a-f]{40}\s+tanaka01 kinko/);
  const certs = nss('certutil', ['-L', '-d', db]);
  assert.match(certs, /tanaka01 kinko\s+u,u,u/);
});

test('buildPKCS12 refuses what it must not build', async (t) => {
  const dir = tempDir(t);
  const ca = makeCA(dir);
  const { keyPair, cert } = await issue(dir, ca);
  const other = await generateKeyPair();
  await t.test('a certificate for another key', async () => {
    await assert.rejects(buildPKCS12({ privateKey: other.privateKey, certificateDER: cert, password: 'x' }), /not for this key/);
  });
  await t.test('an empty password', async () => {
    await assert.rejects(buildPKCS12({ privateKey: keyPair.privateKey, certificateDER: cert, password: '' }), TypeError);
  });
  await t.test('a certificate as PEM text', async () => {
    await assert.rejects(buildPKCS12({ privateKey: keyPair.privateKey, certificateDER: toPEM('CERTIFICATE', cert), password: 'x' }), TypeError);
  });
  await t.test('a chain certificate as an ArrayBuffer', async () => {
    await assert.rejects(buildPKCS12({ privateKey: keyPair.privateKey, certificateDER: cert, chainDER: [cert.buffer], password: 'x' }), TypeError);
  });
  await t.test('no password', async () => {
    await assert.rejects(buildPKCS12({ privateKey: keyPair.privateKey, certificateDER: cert }), TypeError);
  });
});
