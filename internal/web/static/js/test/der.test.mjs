import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import {
  bitString, bmpString, concat, decode, decodeOID, encodeLength, explicit, fromPEM, implicit, integer,
  nullValue, octetString, oid, printableString, sequence, set, tlv, toHex, toPEM, utf8String,
} from '../der.js';
import { openssl, tempDir } from './helpers.mjs';

const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));

test('encodings of known values, byte for byte', async (t) => {
  const cases = [
    ['INTEGER 0', () => integer(0), '020100'],
    ['INTEGER 127', () => integer(127), '02017f'],
    ['INTEGER 128', () => integer(128), '02020080'],
    ['INTEGER 256', () => integer(256), '02020100'],
    ['INTEGER 2048', () => integer(2048), '02020800'],
    ['INTEGER -1', () => integer(-1), '0201ff'],
    ['INTEGER -128', () => integer(-128), '020180'],
    ['INTEGER -129', () => integer(-129), '0202ff7f'],
    ['INTEGER 2^64 as bigint', () => integer(2n ** 64n), '0209010000000000000000'],
    ['INTEGER from unsigned bytes, high bit set', () => integer(hex('ff01')), '020300ff01'],
    ['INTEGER from unsigned bytes, leading zeros', () => integer(hex('00007f')), '02017f'],
    ['INTEGER from unsigned bytes, all zero', () => integer(hex('0000')), '020100'],
    ['BIT STRING', () => bitString(hex('0a3b')), '0303000a3b'],
    ['BIT STRING with unused bits', () => bitString(hex('80'), 7), '03020780'],
    ['BIT STRING empty', () => bitString(new Uint8Array(0)), '030100'],
    ['OCTET STRING', () => octetString(hex('0102')), '04020102'],
    ['OCTET STRING empty', () => octetString(new Uint8Array(0)), '0400'],
    ['NULL', () => nullValue(), '0500'],
    ['OID rsadsi', () => oid('1.2.840.113549'), '06062a864886f70d'],
    ['OID ecdsa-with-SHA256', () => oid('1.2.840.10045.4.3.2'), '06082a8648ce3d040302'],
    ['OID aes256-CBC', () => oid('2.16.840.1.101.3.4.1.42'), '060960864801650304012a'],
    ['OID commonName', () => oid('2.5.4.3'), '0603550403'],
    ['OID 2.999.3 (first arcs above 127)', () => oid('2.999.3'), '0603883703'],
    ['OID with an arc above 2^53', () => oid('1.2.18446744073709551615'), '060b2a81ffffffffffffffff7f'],
    ['UTF8String ASCII', () => utf8String('kinko'), '0c056b696e6b6f'],
    ['UTF8String Japanese', () => utf8String('金庫'), '0c06e98791e5baab'],
    ['PrintableString', () => printableString("Test Org (1)-A'=+,./:?"), '1316' + toHex(new TextEncoder().encode("Test Org (1)-A'=+,./:?"))],
    ['BMPString', () => bmpString('a金'), '1e04006191d1'],
    ['SEQUENCE empty', () => sequence(), '3000'],
    ['SEQUENCE of INTEGER and NULL', () => sequence(integer(1), nullValue()), '30050201010500'],
    ['SET sorted as DER', () => set(integer(2), integer(1), octetString(hex('00'))), '310902010102010204 0100'.replace(' ', '')],
    ['SET sorted by encoding, not by order of arguments', () => set(octetString(hex('0102')), octetString(hex('01'))), '3107040101040201 02'.replace(' ', '')],
    ['[0] EXPLICIT', () => explicit(0, integer(5)), 'a003020105'],
    ['[3] EXPLICIT', () => explicit(3, nullValue()), 'a3020500'],
    ['[0] IMPLICIT primitive', () => implicit(0, octetString(hex('aabb'))), '8002aabb'],
    ['[1] IMPLICIT constructed', () => implicit(1, sequence(integer(1))), 'a103020101'],
    ['[0] IMPLICIT empty SET', () => implicit(0, set()), 'a000'],
  ];
  for (const [name, make, want] of cases) {
    await t.test(name, () => assert.equal(toHex(make()), want));
  }
});

test('lengths of any size', async (t) => {
  const cases = [
    [0, '00'], [1, '01'], [127, '7f'], [128, '8180'], [255, '81ff'], [256, '820100'],
    [65535, '82ffff'], [65536, '83010000'], [16777216, '8401000000'], [2 ** 40, '86010000000000'],
  ];
  for (const [n, want] of cases) {
    await t.test(`length ${n}`, () => assert.equal(toHex(encodeLength(n)), want));
  }
  await t.test('a 70000-byte OCTET STRING round-trips', () => {
    const content = Uint8Array.from({ length: 70000 }, (_, i) => i % 251);
    const der = octetString(content);
    assert.equal(toHex(der.subarray(0, 5)), '0483011170');
    const el = decode(der);
    assert.equal(el.header, 5);
    assert.deepEqual(el.content, content);
  });
  await t.test('bad lengths are refused', () => {
    assert.throws(() => encodeLength(-1), RangeError);
    assert.throws(() => encodeLength(1.5), RangeError);
  });
});

test('decode', async (t) => {
  await t.test('a nested structure', () => {
    const der = sequence(oid('1.2.840.113549.1.7.1'), explicit(0, octetString(hex('0102'))), set(nullValue()));
    const el = decode(der);
    assert.equal(el.tag, 0x30);
    assert.equal(el.tagClass, 'universal');
    assert.equal(el.children.length, 3);
    assert.equal(decodeOID(el.children[0].content), '1.2.840.113549.1.7.1');
    const ctx = el.children[1];
    assert.deepEqual([ctx.tagClass, ctx.number, ctx.constructed], ['context', 0, true]);
    assert.deepEqual(ctx.children[0].content, hex('0102'));
    assert.equal(el.children[2].children[0].tag, 0x05);
  });
  await t.test('OIDs round-trip', () => {
    for (const s of ['0.9.2342', '1.2.840.10045.3.1.7', '2.999.3', '2.5.4.3', '1.3.6.1.4.1.311.21.20', '1.2.18446744073709551615']) {
      assert.equal(decodeOID(decode(oid(s)).content), s);
    }
  });
  const bad = [
    ['trailing data', '050000'],
    ['truncated', '0403aabb'],
    ['indefinite length', '3080'],
    ['non-minimal length', '04810100'],
    ['multi-byte tag', '1f2100'],
    ['empty', ''],
  ];
  for (const [name, input] of bad) {
    await t.test(`refuses ${name}`, () => assert.throws(() => decode(hex(input)), SyntaxError));
  }
});

test('refuses values it cannot encode', async (t) => {
  const cases = [
    ['PrintableString with @', () => printableString('a@b')],
    ['PrintableString with Japanese', () => printableString('金庫')],
    ['OID with one arc', () => oid('1')],
    ['OID with first arc 3', () => oid('3.1')],
    ['OID 1.40', () => oid('1.40')],
    ['OID with a leading zero', () => oid('1.2.03')],
    ['INTEGER not whole', () => integer(1.5)],
    ['BIT STRING with 8 unused bits', () => bitString(hex('00'), 8)],
    ['[31] tag', () => explicit(31, nullValue())],
    ['multi-byte tag', () => tlv(0x1f, new Uint8Array(0))],
  ];
  for (const [name, f] of cases) {
    await t.test(name, () => assert.throws(f));
  }
});

test('PEM', async (t) => {
  await t.test('toPEM wraps at 64 characters', () => {
    const der = Uint8Array.from({ length: 100 }, (_, i) => i);
    const pem = toPEM('CERTIFICATE', der);
    const lines = pem.trimEnd().split('\n');
    assert.equal(lines[0], '-----BEGIN CERTIFICATE-----');
    assert.deepEqual(lines.slice(1, 4).map((l) => l.length), [64, 64, 8]);
    assert.equal(lines[4], '-----END CERTIFICATE-----');
    assert.equal(pem.at(-1), '\n');
    assert.equal(Buffer.from(lines.slice(1, 4).join(''), 'base64').toString('hex'), toHex(der));
  });
  await t.test('fromPEM reads every block with its label, in order', () => {
    const a = hex('3000');
    const b = hex('300302 0101'.replace(' ', ''));
    const text = toPEM('CERTIFICATE', a) + toPEM('PRIVATE KEY', hex('05')) + toPEM('CERTIFICATE', b).replace(/\n/g, '\r\n');
    assert.deepEqual(fromPEM(text, 'CERTIFICATE'), [a, b]);
    assert.deepEqual(fromPEM(text, 'CERTIFICATE REQUEST'), []);
  });
  await t.test('concat', () => {
    assert.equal(toHex(concat(hex('01'), new Uint8Array(0), hex('0203'))), '010203');
  });
});

test('openssl asn1parse reads the encodings', (t) => {
  const der = sequence(
    integer(-129), integer(2n ** 64n), bitString(hex('0102')), octetString(new Uint8Array(300)), nullValue(),
    oid('1.2.840.10045.3.1.7'), utf8String('金庫'), printableString('Test'), bmpString('ab'),
    set(integer(2), integer(1)), explicit(2, integer(1)), implicit(1, octetString(hex('aa'))),
  );
  const file = join(tempDir(t), 'x.der');
  writeFileSync(file, der);
  const got = openssl(['asn1parse', '-inform', 'DER', '-in', file, '-i']).split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^ *\d+:/, '').replace(/\[HEX DUMP\]:0+$/, '[HEX DUMP]:0...').replace(/ +$/, '').replace(/ +/g, ' '));
  assert.deepEqual(got, [
    'd=0 hl=4 l= 372 cons: SEQUENCE',
    'd=1 hl=2 l= 2 prim: INTEGER :-81',
    'd=1 hl=2 l= 9 prim: INTEGER :010000000000000000',
    'd=1 hl=2 l= 3 prim: BIT STRING',
    'd=1 hl=4 l= 300 prim: OCTET STRING [HEX DUMP]:0...',
    'd=1 hl=2 l= 0 prim: NULL',
    'd=1 hl=2 l= 8 prim: OBJECT :prime256v1',
    'd=1 hl=2 l= 6 prim: UTF8STRING :金庫',
    'd=1 hl=2 l= 4 prim: PRINTABLESTRING :Test',
    'd=1 hl=2 l= 4 prim: BMPSTRING',
    'd=1 hl=2 l= 6 cons: SET',
    'd=2 hl=2 l= 1 prim: INTEGER :01',
    'd=2 hl=2 l= 1 prim: INTEGER :02',
    'd=1 hl=2 l= 3 cons: cont [ 2 ]',
    'd=2 hl=2 l= 1 prim: INTEGER :01',
    'd=1 hl=2 l= 1 prim: cont [ 1 ]',
  ]);
});
