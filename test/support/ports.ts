// Tests take free ports from the lab's helper (one implementation).
export { freePort } from '../../actors/lab/ports.ts';
