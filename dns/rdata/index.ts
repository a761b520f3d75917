// Public API of dns/rdata: per-type RDATA codecs driven by one descriptor table.
export {
  decodeRdata,
  encodeRdata,
  genericText,
  isGenericRdata,
  parseRdata,
  rdataFromText,
  rdataToText,
  validateRdata,
} from './codec.ts';
export type { RdataObject } from './codec.ts';
export { DESCRIPTORS, descriptorOf } from './descriptors.ts';
export type { Descriptor, RdataOf, TypedName } from './descriptors.ts';
export type { Field, Shape } from './fields.ts';
export { HSYNCPARAM_KEYS_DRAFT01, HsyncParamKey, hsyncParamsFromView, hsyncParamsView, NSMGMT, PARENTSYNC } from './hsyncparam.ts';
export type { HsyncParams } from './hsyncparam.ts';
export { hsyncView, normalizeLabel } from './hsync.ts';
export type { HsyncView } from './hsync.ts';
export { keyTable } from './keyvalue.ts';
export type { KeyDef, KeyTable, KeyValue } from './keyvalue.ts';
export { SVC_PARAMS } from './svcparams.ts';
export { readNameAt, skipName, WireReader, WireWriter } from './wire.ts';
export { soaMinimum, soaRdataWithSerial, soaSerial, soaTimers, soaWithSerial } from './soa.ts';
export type { SoaTimers } from './soa.ts';
