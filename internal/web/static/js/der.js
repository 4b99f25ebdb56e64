// der.js: a small DER encoder and decoder (ITU-T X.690), enough for a
// PKCS#10 certificate request and a PKCS#12 file.
//
// Encoders: each returns the whole encoding (tag, length, content) as a
// Uint8Array.
//   integer(v)              INTEGER from a number, a bigint, or a Uint8Array
//                           holding an unsigned big-endian value
//   bitString(bytes, unused = 0)  BIT STRING
//   octetString(bytes)      OCTET STRING
//   nullValue()             NULL
//   oid("1.2.840.10045")    OBJECT IDENTIFIER from its dotted form
//   utf8String(s)           UTF8String
//   printableString(s)      PrintableString (throws on a character outside
//                           its alphabet)
//   bmpString(s)            BMPString (UTF-16BE)
//   sequence(...items)      SEQUENCE of already encoded items
//   set(...items)           SET OF, its items sorted as DER requires
//   explicit(n, item)       [n] EXPLICIT: item wrapped in a constructed
//                           context-specific tag
//   implicit(n, item)       [n] IMPLICIT: item's own tag replaced by the
//                           context-specific tag n, constructed or not as
//                           the item was
//   tlv(tag, content)       any single-byte tag with the given content
//   encodeLength(n)         the length octets for a content of n bytes
//
// Decoder:
//   decode(bytes)           parses one whole element (trailing bytes are an
//                           error) into {tag, constructed, tagClass, number,
//                           header, content, children}; children (for a
//                           constructed element) are decoded the same way.
//                           Only single-byte tags and definite lengths, as
//                           in DER.
//   decodeOID(content)      the dotted form of an OBJECT IDENTIFIER's content
//
// Helpers:
//   TAG                     the tag bytes of the universal types above
//   concat(...arrays)       one Uint8Array of all the arrays, in order
//   toPEM(label, der)       PEM text, base64 in lines of 64 characters
//   fromPEM(text, label)    the DER bytes of every PEM block with that label,
//                           in order (an array, maybe empty)
//   toHex(bytes)            lowercase hexadecimal

// Tag numbers of the universal types used here.
export const TAG = Object.freeze({
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
});

const CONSTRUCTED = 0x20;
const CONTEXT = 0x80;

export function concat(...arrays) {
  let n = 0;
  for (const a of arrays) n += a.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const a of arrays) {
    out.set(a, off);
    off += a.length;
  }
  return out;
}

export function encodeLength(n) {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`der: bad length ${n}`);
  if (n < 0x80) return Uint8Array.of(n);
  const bytes = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function tlv(tag, content) {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff || (tag & 0x1f) === 0x1f) {
    throw new RangeError(`der: unsupported tag ${tag}`);
  }
  return concat(Uint8Array.of(tag), encodeLength(content.length), content);
}

export function integer(v) {
  let content;
  if (v instanceof Uint8Array) {
    // Unsigned big-endian: drop leading zeros, then add one zero if the
    // high bit is set so that the value stays positive.
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    content = v.subarray(i);
    if (content.length === 0) content = Uint8Array.of(0);
    if (content[0] & 0x80) content = concat(Uint8Array.of(0), content);
  } else {
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`der: bad integer ${v}`);
    content = twosComplement(BigInt(v));
  }
  return tlv(TAG.INTEGER, content);
}

// twosComplement returns the shortest two's complement big-endian bytes of v.
function twosComplement(v) {
  const bytes = [];
  for (;;) {
    const b = Number(v & 0xffn);
    bytes.unshift(b);
    v >>= 8n; // arithmetic shift: -1 stays -1
    if ((v === 0n && !(b & 0x80)) || (v === -1n && b & 0x80)) break;
  }
  return Uint8Array.from(bytes);
}

export function bitString(bytes, unused = 0) {
  if (!Number.isInteger(unused) || unused < 0 || unused > 7 || (unused > 0 && bytes.length === 0)) {
    throw new RangeError(`der: bad number of unused bits ${unused}`);
  }
  return tlv(TAG.BIT_STRING, concat(Uint8Array.of(unused), bytes));
}

export function octetString(bytes) {
  return tlv(TAG.OCTET_STRING, bytes);
}

export function nullValue() {
  return Uint8Array.of(TAG.NULL, 0);
}

export function oid(dotted) {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(dotted)) throw new SyntaxError(`der: bad OID ${dotted}`);
  const arcs = dotted.split('.').map(BigInt);
  if (arcs[0] < 2n && arcs[1] > 39n) throw new SyntaxError(`der: bad OID ${dotted}`);
  const values = [arcs[0] * 40n + arcs[1], ...arcs.slice(2)];
  const out = [];
  for (let v of values) {
    const group = [Number(v & 0x7fn)];
    for (v >>= 7n; v > 0n; v >>= 7n) group.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...group);
  }
  return tlv(TAG.OID, Uint8Array.from(out));
}

export function decodeOID(content) {
  const values = [];
  let v = 0n;
  for (const b of content) {
    v = (v << 7n) | BigInt(b & 0x7f);
    if (!(b & 0x80)) {
      values.push(v);
      v = 0n;
    }
  }
  if (content.length === 0 || content[content.length - 1] & 0x80) throw new SyntaxError('der: truncated OID');
  const first = values[0] < 80n ? values[0] / 40n : 2n;
  return [first, values[0] - first * 40n, ...values.slice(1)].join('.');
}

export function utf8String(s) {
  return tlv(TAG.UTF8_STRING, new TextEncoder().encode(s));
}

export function printableString(s) {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s)) throw new SyntaxError(`der: not a PrintableString: ${JSON.stringify(s)}`);
  return tlv(TAG.PRINTABLE_STRING, new TextEncoder().encode(s));
}

export function bmpString(s) {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 * i] = c >> 8;
    out[2 * i + 1] = c & 0xff;
  }
  return tlv(TAG.BMP_STRING, out);
}

export function sequence(...items) {
  return tlv(TAG.SEQUENCE, concat(...items));
}

export function set(...items) {
  return tlv(TAG.SET, concat(...[...items].sort(compareEncodings)));
}

// compareEncodings orders encodings as X.690 11.6 asks for a SET OF: as
// octet strings, the shorter one padded with zeros at its end.
function compareEncodings(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function explicit(n, item) {
  return tlv(contextTag(n, true), item);
}

export function implicit(n, item) {
  const inner = decode(item);
  return tlv(contextTag(n, inner.constructed), inner.content);
}

function contextTag(n, constructed) {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError(`der: unsupported context tag [${n}]`);
  return CONTEXT | (constructed ? CONSTRUCTED : 0) | n;
}

export function decode(bytes) {
  const el = decodeAt(bytes, 0);
  if (el.header + el.content.length !== bytes.length) throw new SyntaxError('der: trailing data');
  return el;
}

function decodeAt(bytes, off) {
  if (off + 2 > bytes.length) throw new SyntaxError('der: truncated');
  const tag = bytes[off];
  if ((tag & 0x1f) === 0x1f) throw new SyntaxError('der: multi-byte tags are not supported');
  let len = bytes[off + 1];
  let header = 2;
  if (len === 0x80) throw new SyntaxError('der: indefinite length');
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n > 6 || off + 2 + n > bytes.length) throw new SyntaxError('der: bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + bytes[off + 2 + i];
    if (len < 0x80 || bytes[off + 2] === 0) throw new SyntaxError('der: length not minimal');
    header += n;
  }
  if (off + header + len > bytes.length) throw new SyntaxError('der: truncated');
  const content = bytes.subarray(off + header, off + header + len);
  const el = {
    tag,
    constructed: (tag & CONSTRUCTED) !== 0,
    tagClass: ['universal', 'application', 'context', 'private'][tag >> 6],
    number: tag & 0x1f,
    header,
    content,
    children: null,
  };
  if (el.constructed) {
    el.children = [];
    for (let p = 0; p < content.length; ) {
      const child = decodeAt(content, p);
      el.children.push(child);
      p += child.header + child.content.length;
    }
  }
  return el;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function toPEM(label, der) {
  const b64 = toBase64(der);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function fromPEM(text, label) {
  const out = [];
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*?)-----END ${label}-----`, 'g');
  for (const m of text.matchAll(re)) {
    const bin = atob(m[1].replace(/\s+/g, ''));
    out.push(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  }
  return out;
}
