// Public API of dns/presentation: the RFC 1035 §5 tokenizer and fast name conversion.
export { Tokenizer, tokenize, tokenizeLines } from './tokenizer.ts';
export type { LogicalLine, Token } from './tokenizer.ts';
export { parseNameFast } from './names.ts';
