// The data formats of the VM core module's boundary (guest-vm/ABI.md) as pure functions: value
// cells, type descriptors, describe blobs, status/trap/error codes. No I/O and no Node APIs, so every
// host adapter and the unit tests share one codec.

import { ERROR_KINDS, PROBE_BITS as PROBE_KIND_BITS, PROBE_EVENTS, RECORD_BITS, Trap } from './vocabulary.js';

export { Status, TRAP_MESSAGES } from './vocabulary.js';

export type NumType = 'i32' | 'i64' | 'f32' | 'f64';
export type RefType = 'funcref' | 'externref';
export type ValType = NumType | 'v128' | RefType;

/**
 * A Wasm value as it crosses the boundary. Floats travel as bit patterns so NaN payloads and signs
 * stay exact. On output i32/i64 are signed (as in the JS API); on input any 32/64-bit pattern is
 * accepted. A funcref is a store function address, an externref a host reference number N.
 */
export type Value =
  | { type: 'i32'; value: number }
  | { type: 'i64'; value: bigint }
  | { type: 'f32'; bits: number }
  | { type: 'f64'; bits: bigint }
  | { type: 'funcref'; value: number | null }
  | { type: 'externref'; value: number | null };

export interface FuncType {
  params: ValType[];
  results: ValType[];
}
export interface Limits {
  min: number;
  max: number | null;
}
export interface TableType extends Limits {
  elem: RefType;
}
export type MemoryType = Limits;
export interface GlobalType {
  type: ValType;
  mutable: boolean;
}

export type ExternKind = 'func' | 'table' | 'memory' | 'global';
export type ExternType =
  | { kind: 'func'; type: FuncType }
  | { kind: 'table'; type: TableType }
  | { kind: 'memory'; type: MemoryType }
  | { kind: 'global'; type: GlobalType };
export type ImportDesc = ExternType & { module: string; name: string };
export type ExportDesc = ExternType & { name: string; index: number };
export interface ModuleDesc {
  imports: ImportDesc[];
  exports: ExportDesc[];
}

export const CELL_SIZE = 8;
export const IO_CELLS = 1024;
/** `max` of a table or memory without an upper limit. */
export const NO_MAX = 0xffffffff;

export const EXTERN_KINDS: readonly ExternKind[] = ['func', 'table', 'memory', 'global'];

export const VALTYPE_CODES: Readonly<Record<ValType, number>> = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
  funcref: 0x70,
  externref: 0x6f,
};

export const TRAP_STACK_EXHAUSTED = Trap.Stack;

export type ErrorKind = Exclude<(typeof ERROR_KINDS)[number], 'none'> | 'unknown';

/** Something crossed the boundary that does not follow the ABI: a VM bug or a host misuse. */
export class AbiError extends Error {
  override name = 'AbiError';
}

export function errorKindFromCode(code: number): ErrorKind {
  const kind = ERROR_KINDS[code];
  return kind === undefined || kind === 'none' ? 'unknown' : kind;
}

export function valTypeFromCode(code: number): ValType {
  for (const [name, c] of Object.entries(VALTYPE_CODES)) if (c === code) return name as ValType;
  throw new AbiError(`unknown value type code 0x${code.toString(16)}`);
}

function refTypeFromCode(code: number): RefType {
  const t = valTypeFromCode(code);
  if (t !== 'funcref' && t !== 'externref') throw new AbiError(`expected a reference type, got ${t}`);
  return t;
}

export function externKindFromCode(code: number): ExternKind {
  const kind = EXTERN_KINDS[code];
  if (kind === undefined) throw new AbiError(`unknown extern kind ${code}`);
  return kind;
}

export function externKindCode(kind: ExternKind): number {
  return EXTERN_KINDS.indexOf(kind);
}

/**
 * Bounds-checked little-endian reader over bytes the VM produced (a blob, a reply frame); reading
 * past the end throws what `short` makes of the message.
 */
export class BlobReader {
  private pos = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array, private readonly short: (message: string) => Error = (m) => new AbiError(m)) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number): number {
    if (this.pos + n > this.bytes.length) throw this.short(`blob truncated at byte ${this.pos} (length ${this.bytes.length})`);
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8(): number {
    return this.view.getUint8(this.need(1));
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  i32(): number {
    return this.view.getInt32(this.need(4), true);
  }
  u64(): bigint {
    return this.view.getBigUint64(this.need(8), true);
  }
  str(): string {
    const len = this.u32();
    const at = this.need(len);
    return utf8.decode(this.bytes.subarray(at, at + len));
  }
  /** The bytes not read yet, copied. */
  rest(): Uint8Array {
    return this.bytes.slice(this.need(this.bytes.length - this.pos));
  }
  cells(types: readonly ValType[]): Value[] {
    const at = this.need(types.length * CELL_SIZE);
    return types.map((t, i) => readCell(this.view, at + i * CELL_SIZE, t));
  }
  valTypes(): ValType[] {
    const types: ValType[] = [];
    for (let n = this.u32(); n > 0; n--) types.push(valTypeFromCode(this.u8()));
    return types;
  }
  end(): void {
    if (this.pos !== this.bytes.length) throw new AbiError(`${this.bytes.length - this.pos} unread bytes at the end of a blob`);
  }
}

// ignoreBOM: a leading U+FEFF is part of a name (names.wast exports one), not a byte-order mark.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

export function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

function readLimits(r: BlobReader): Limits {
  const min = r.u32();
  const max = r.u32();
  return { min, max: max === NO_MAX ? null : max };
}

function readExternType(r: BlobReader, kind: ExternKind): ExternType {
  switch (kind) {
    case 'func': {
      const params = r.valTypes();
      return { kind, type: { params, results: r.valTypes() } };
    }
    case 'table': {
      const elem = refTypeFromCode(r.u8());
      return { kind, type: { elem, ...readLimits(r) } };
    }
    case 'memory':
      return { kind, type: readLimits(r) };
    case 'global': {
      const type = valTypeFromCode(r.u8());
      return { kind, type: { type, mutable: r.u8() !== 0 } };
    }
  }
}

/** Decodes the blob of `module_describe`. */
export function decodeModuleDesc(bytes: Uint8Array): ModuleDesc {
  const r = new BlobReader(bytes);
  const imports: ImportDesc[] = [];
  for (let n = r.u32(); n > 0; n--) {
    const module = r.str();
    const name = r.str();
    imports.push({ module, name, ...readExternType(r, externKindFromCode(r.u8())) });
  }
  const exports: ExportDesc[] = [];
  for (let n = r.u32(); n > 0; n--) {
    const name = r.str();
    const kind = externKindFromCode(r.u8());
    const index = r.u32();
    exports.push({ name, index, ...readExternType(r, kind) });
  }
  r.end();
  return { imports, exports };
}

/** Decodes the blob of `func_describe`. */
export function decodeFuncType(bytes: Uint8Array): FuncType {
  const r = new BlobReader(bytes);
  const t = readExternType(r, 'func');
  r.end();
  return t.type as FuncType;
}

/** The func typedesc that `host_func_new` reads. */
export function encodeFuncType(type: FuncType): Uint8Array {
  const out = new Uint8Array(8 + type.params.length + type.results.length);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const list of [type.params, type.results]) {
    view.setUint32(pos, list.length, true);
    pos += 4;
    for (const t of list) out[pos++] = VALTYPE_CODES[t];
  }
  return out;
}

/** Reads the value of type `type` from the 8-byte cell at `offset`. */
export function readCell(view: DataView, offset: number, type: ValType): Value {
  switch (type) {
    case 'i32':
      return { type, value: view.getInt32(offset, true) };
    case 'i64':
      return { type, value: view.getBigInt64(offset, true) };
    case 'f32':
      return { type, bits: view.getUint32(offset, true) };
    case 'f64':
      return { type, bits: view.getBigUint64(offset, true) };
    case 'funcref':
    case 'externref': {
      const raw = view.getUint32(offset, true);
      return { type, value: raw === 0 ? null : raw - 1 };
    }
    case 'v128':
      throw new AbiError('v128 values cannot cross the ABI (cells are 8 bytes)');
  }
}

/** Writes `value` to the 8-byte cell at `offset`; the unused upper half of 32-bit values is zeroed. */
export function writeCell(view: DataView, offset: number, value: Value): void {
  switch (value.type) {
    case 'i32':
      view.setBigUint64(offset, 0n, true);
      view.setInt32(offset, value.value | 0, true);
      return;
    case 'i64':
      view.setBigUint64(offset, BigInt.asUintN(64, value.value), true);
      return;
    case 'f32':
      view.setBigUint64(offset, 0n, true);
      view.setUint32(offset, value.bits >>> 0, true);
      return;
    case 'f64':
      view.setBigUint64(offset, BigInt.asUintN(64, value.bits), true);
      return;
    case 'funcref':
    case 'externref': {
      const n = value.value;
      if (n !== null && !(Number.isInteger(n) && n >= 0 && n < NO_MAX)) {
        throw new AbiError(`${value.type} ${n} is not representable (0 <= N < 0xffffffff)`);
      }
      view.setBigUint64(offset, 0n, true);
      view.setUint32(offset, n === null ? 0 : n + 1, true);
      return;
    }
  }
}


/** What a snapshot holds (ABI `snapshot_info`). */
export interface SnapshotInfo {
  formatVersion: number;
  vmVersion: string;
  flags: number;
  moduleHash: string; // hex SHA-256
  metered: boolean;
  fuel: bigint;
  memories: { pages: number; storedPages: number }[];
  frames: { func: number; offset: number; locals: number; operands: number }[];
  hostState: Uint8Array;
  module: Uint8Array | null; // embedded module bytes
}

export function decodeSnapshotInfo(blob: Uint8Array): SnapshotInfo {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > blob.length) throw new AbiError('truncated snapshot info');
    const p = at;
    at += n;
    return p;
  };
  const u32 = () => view.getUint32(need(4), true);
  const bytes = (n: number) => blob.slice(need(n), at);
  const formatVersion = u32();
  const vmVersion = new TextDecoder().decode(bytes(u32()));
  const flags = u32();
  const moduleHash = [...bytes(32)].map((b) => b.toString(16).padStart(2, '0')).join('');
  const metered = view.getUint8(need(1)) !== 0;
  const fuel = view.getBigUint64(need(8), true);
  const memories = Array.from({ length: u32() }, () => ({ pages: u32(), storedPages: u32() }));
  const frames = Array.from({ length: u32() }, () => ({ func: u32(), offset: u32(), locals: u32(), operands: u32() }));
  const hostState = bytes(u32());
  const moduleBytes = bytes(u32());
  return { formatVersion, vmVersion, flags, moduleHash, metered, fuel, memories, frames, hostState, module: moduleBytes.length > 0 ? moduleBytes : null };
}

// Checked before entering a VM, so that a mistake on the host side does not leave it unusable.
export function checkCellTypes(types: readonly ValType[], what: string): void {
  if (types.length > IO_CELLS) throw new AbiError(`${what}: ${types.length} values do not fit the ${IO_CELLS} io cells`);
  if (types.includes('v128')) throw new AbiError(`${what}: v128 values cannot cross the ABI (8-byte cells)`);
}

export function checkValues(values: readonly Value[], types: readonly ValType[], what: string): void {
  checkCellTypes(types, what);
  if (values.length === types.length && values.every((v, i) => v.type === types[i])) return;
  throw new TypeError(`${what}: expected [${types.join(' ')}], got [${values.map((v) => v.type).join(' ')}]`);
}

// ── probes (guest-vm/probe/README.md) ─────────────────────────────────────────────────────────
export type ProbeKind = 'instruction' | 'site' | 'entry' | 'exit' | 'memory' | 'branch' | 'call';

/** Callback probes: each event stops the activation (outcome 'probe') until the host resumes it. */
export interface ProbeConfig {
  /** Before every executed bytecode instruction (counted by the metering rule, ABI.md). */
  instruction?: boolean;
  /** Before the instruction at `offset` (bytecode offset from the module's start) of function `func`. */
  sites?: readonly { func: number; offset: number }[];
  /** On entry to every function (compiled code: not host functions). */
  entry?: boolean;
  /** Before every return: `return`, the body's `end`, or a branch out of the body. */
  exit?: boolean;
  /** Before every load and store: effective address, size, load or store. */
  memory?: boolean;
  /** Before br_if and if (taken or not) and br_table (the index). */
  branches?: boolean;
  /** Before call and call_indirect: the target function. */
  calls?: boolean;
}

/** In-VM recording: no host call per event (Vm only). */
export interface RecordingConfig {
  /** Every load and store's address, size and kind, into a VM-side buffer of `capacity` records (default 65536). */
  memoryTrace?: boolean | { capacity?: number };
  /** How often each call_indirect site called each target. */
  indirectCalls?: boolean;
  /** Inclusive instructions per function (a shadow stack of entry clocks; meters the code). */
  inclusive?: boolean;
}

interface EventAt {
  /** Function index (in its module) of the function the event happened in. */
  func: number;
  /** Bytecode offset (from the module's start) of the instruction the event precedes. */
  offset: number;
}
export type ProbeEvent =
  | (EventAt & { probe: 'instruction' | 'site' | 'entry' | 'exit' | 'trace-full' })
  /** address = base + staticOffset (a number: it may pass 2^32, then the access traps). */
  | (EventAt & { probe: 'memory'; address: number; base: number; staticOffset: number; size: number; store: boolean })
  | (EventAt & { probe: 'branch'; instruction: 'if' | 'br_if'; taken: boolean })
  | (EventAt & { probe: 'branch'; instruction: 'br_table'; index: number })
  /** target: the callee's function index in the caller's module; null when the table has no function there (the call traps). */
  | (EventAt & { probe: 'call'; target: number | null; indirect: boolean });

const { sites: PROBE_SITES_BIT, ...PROBE_BITS } = PROBE_KIND_BITS;
export { PROBE_SITES_BIT, RECORD_BITS };
export const MAX_TRACE_RECORDS = 1 << 26;

function checkKeys(what: string, value: unknown, known: readonly string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${what} must be an object`);
  for (const [k, v] of Object.entries(value)) {
    if (!known.includes(k)) throw new TypeError(`${what}: unknown option "${k}" (known: ${known.join(', ')})`);
    if (k !== 'sites' && k !== 'memoryTrace' && v !== undefined && typeof v !== 'boolean') throw new TypeError(`${what}.${k} must be a boolean`);
  }
}

/** The probe kinds' bits, after checking the configuration (a mistake is a TypeError naming it). */
export function probeBits(config: ProbeConfig): { kinds: number; sites: { func: number; offset: number }[] } {
  checkKeys('probes', config, [...Object.keys(PROBE_BITS), 'sites']);
  let kinds = 0;
  for (const [k, bit] of Object.entries(PROBE_BITS)) if (config[k as keyof typeof PROBE_BITS]) kinds |= bit;
  const sites = config.sites ?? [];
  if (!Array.isArray(sites)) throw new TypeError('probes.sites must be a list of { func, offset }');
  for (const site of sites) {
    const ok = typeof site === 'object' && site !== null && [site.func, site.offset].every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff);
    if (!ok) throw new TypeError(`probes.sites: ${JSON.stringify(site)} is not { func, offset } with whole numbers`);
  }
  if (sites.length > 0) kinds |= PROBE_SITES_BIT;
  return { kinds, sites: sites.map((s) => ({ func: s.func, offset: s.offset })) };
}

export function recordingBits(config: RecordingConfig): { records: number; capacity: number } {
  checkKeys('recording', config, Object.keys(RECORD_BITS));
  let records = 0;
  let capacity = 0;
  const trace = config.memoryTrace;
  if (trace !== undefined && trace !== false) {
    records |= RECORD_BITS.memoryTrace;
    if (typeof trace === 'object') {
      if (trace === null || Object.keys(trace).some((k) => k !== 'capacity')) throw new TypeError('recording.memoryTrace must be true or { capacity }');
      if (trace.capacity !== undefined) {
        if (!Number.isInteger(trace.capacity) || trace.capacity < 1 || trace.capacity > MAX_TRACE_RECORDS) {
          throw new RangeError(`recording.memoryTrace.capacity must be a whole number from 1 to ${MAX_TRACE_RECORDS}`);
        }
        capacity = trace.capacity;
      }
    } else if (trace !== true) throw new TypeError('recording.memoryTrace must be true or { capacity }');
  }
  if (config.indirectCalls) records |= RECORD_BITS.indirectCalls;
  if (config.inclusive) records |= RECORD_BITS.inclusive;
  return { records, capacity };
}

const NO_TARGET = 0xffffffff;

/** The event of `probe_event`'s cells: kind, function, offset, then two operands (ABI.md). */
export function decodeProbeEvent(kind: number, func: number, offset: number, a: bigint, b: number): ProbeEvent {
  const at = { func, offset };
  switch (PROBE_EVENTS[kind - 1]) {
    case 'memory': {
      const base = Number(a & 0xffffffffn);
      const staticOffset = Number(a >> 32n);
      return { probe: 'memory', ...at, address: base + staticOffset, base, staticOffset, size: b & 0xff, store: (b & 0x100) !== 0 };
    }
    case 'branch':
      return b === 0x0e
        ? { probe: 'branch', ...at, instruction: 'br_table', index: Number(a) }
        : { probe: 'branch', ...at, instruction: b === 0x04 ? 'if' : 'br_if', taken: a !== 0n };
    case 'call':
      return { probe: 'call', ...at, target: Number(a) === NO_TARGET ? null : Number(a), indirect: b === 1 };
    case undefined:
      throw new AbiError(`the VM reported probe event kind ${kind}`);
    default:
      return { probe: PROBE_EVENTS[kind - 1] as 'instruction', ...at };
  }
}

/** One record of the memory trace (8 bytes: u32 address, u8 size, u8 flags bit 0 store, u16 0). */
export interface MemoryAccess { address: number; size: number; store: boolean }
export const TRACE_RECORD_BYTES = 8;

export function decodeTrace(bytes: Uint8Array): MemoryAccess[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: MemoryAccess[] = [];
  for (let at = 0; at + TRACE_RECORD_BYTES <= bytes.length; at += TRACE_RECORD_BYTES) {
    out.push({ address: view.getUint32(at, true), size: view.getUint8(at + 4), store: (view.getUint8(at + 5) & 1) !== 0 });
  }
  return out;
}

/** What the recording holds for an instance (`probe_dump`). */
export interface Recorded {
  /** Inclusive instructions per defined function index (only functions that ran). */
  inclusive: Map<number, bigint>;
  /** call_indirect executions per (call site offset, target function index; null: none). */
  indirect: { site: number; target: number | null; count: bigint }[];
}

export function decodeRecorded(blob: Uint8Array): Recorded {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = 0;
  const u32 = () => { const v = view.getUint32(at, true); at += 4; return v; };
  const u64 = () => { const v = view.getBigUint64(at, true); at += 8; return v; };
  const inclusive = new Map<number, bigint>();
  for (let n = u32(); n > 0; n--) {
    const index = u32();
    const v = u64();
    if (v > 0n) inclusive.set(index, v);
  }
  const indirect: Recorded['indirect'] = [];
  for (let n = u32(); n > 0; n--) {
    const site = u32();
    const target = u32();
    indirect.push({ site, target: target === NO_TARGET ? null : target, count: u64() });
  }
  return { inclusive, indirect };
}
