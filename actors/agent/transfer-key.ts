// The TSIG key two providers use for zone transfers between their combiners, derived from their
// agents' P-256 keys so nobody configures a shared secret: ECDH between our private encryption
// key and the peer's public one (the same secret on both sides), then HKDF-SHA256 with both
// identities, in sorted order, as info. The key's name is derived from the identities too.
import { createHash, diffieHellman, hkdfSync, KeyObject } from 'node:crypto';
import { parseName, type Fqdn } from '../../dns/name.ts';
import type { TsigKey } from '../../dns/tsig.ts';
import type { OwnKeys, PeerKeys } from '../../protocol/envelope.ts';

const SALT = 'mpdns transfer key v1';

export function transferKey(self: Fqdn, own: OwnKeys, peer: Fqdn, peerKeys: PeerKeys): TsigKey {
  const shared = diffieHellman({ privateKey: KeyObject.from(own.decrypt), publicKey: KeyObject.from(peerKeys.encrypt) });
  const ids = [self, peer].sort().join(' ');
  const secret = new Uint8Array(hkdfSync('sha256', shared, SALT, ids, 32));
  const tag = createHash('sha256').update(ids).digest('hex').slice(0, 16);
  return { name: parseName(`${tag}.xfr.mpdns.`), algorithm: 'hmac-sha256', secret };
}
