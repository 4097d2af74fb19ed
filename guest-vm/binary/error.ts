// Errors are values: the VM never throws out of an export. Whoever detects a problem records it
// here and returns a failure value; the host reads kind, message and byte offset through the ABI.

import { ErrorKind } from "../vocabulary";
export { ErrorKind };

export class VmError {
  kind: u8 = <u8>ErrorKind.None;
  message: string = "";
  offset: u32 = 0;
}

export const lastError = new VmError();

// Records the first error; later ones (consequences of the first) are ignored until clearError().
export function fail(kind: i32, message: string, offset: u32): void {
  if (lastError.kind != ErrorKind.None) return;
  lastError.kind = <u8>kind;
  lastError.message = message;
  lastError.offset = offset;
}

export function clearError(): void {
  lastError.kind = <u8>ErrorKind.None;
  lastError.message = "";
  lastError.offset = 0;
}

export function hasError(): bool {
  return lastError.kind != ErrorKind.None;
}
