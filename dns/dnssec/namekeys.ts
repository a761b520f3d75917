// Fast per-name encodings the signer needs for every owner: uncompressed wire form and a
// string key whose JavaScript order is the RFC 4034 §6.1 canonical order. Plain names (no
// escapes) take a fast path; anything else goes through dns/name.ts.
import { nameLabelBytes, nameToWire, parentName, type Fqdn } from '../name.ts';

/** Uncompressed wire form of a (lower-case) name. */
export function ownerWire(name: Fqdn): Uint8Array {
  if (name.includes('\\')) return nameToWire(name);
  if (name === '.') return Uint8Array.of(0);
  const out = new Uint8Array(name.length + 1);
  let lenAt = 0;
  let o = 1;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      out[lenAt] = o - lenAt - 1;
      lenAt = o;
    } else out[o] = c;
    o++;
  }
  out[lenAt] = 0;
  return out;
}

/**
 * Canonical-order sort key: labels right to left, `\0` after each label, each octet as the
 * character of its value, except octets 0 and 1, written `\1\1` and `\1\2`. The encoding
 * is prefix-free and order-preserving and the separator sorts first, so comparing keys as
 * strings is the RFC 4034 §6.1 order. Plain names are just their labels reversed.
 */
export function nameSortKey(name: Fqdn): string {
  if (name === '.') return '';
  if (!name.includes('\\')) return name.slice(0, -1).split('.').reverse().join('\0') + '\0';
  const labels = nameLabelBytes(name);
  let key = '';
  for (let i = labels.length - 1; i >= 0; i--) {
    for (const b of labels[i] as Uint8Array) key += b > 1 ? String.fromCharCode(b) : b === 0 ? '\x01\x01' : '\x01\x02';
    key += '\0';
  }
  return key;
}

/** The parent of a name (undefined for the root); plain names without dns/name.ts's split. */
export function parentOf(name: Fqdn): Fqdn | undefined {
  if (name === '.') return undefined;
  if (name.includes('\\')) return parentName(name);
  const i = name.indexOf('.');
  return (i === name.length - 1 ? '.' : name.slice(i + 1)) as Fqdn;
}
