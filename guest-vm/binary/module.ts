// The decoded module: what the binary format says, nothing derived. Produced by binary/decode.ts,
// checked by valid/, read by runtime/ (instantiation) and compile/ (function bodies, lazily).
// Function bodies and data segment bytes are not copied: they are byte ranges into `bytes`.

export const enum ValType {
  I32 = 0x7f,
  I64 = 0x7e,
  F32 = 0x7d,
  F64 = 0x7c,
  V128 = 0x7b,
  FuncRef = 0x70,
  ExternRef = 0x6f,
}

export const enum ExternKind {
  Func = 0,
  Table = 1,
  Memory = 2,
  Global = 3,
}

export class FuncType {
  params: u8[] = [];
  results: u8[] = [];
}

export class Limits {
  min: u32 = 0;
  max: u32 = 0;
  hasMax: bool = false;
}

export class TableType {
  elemType: u8 = <u8>ValType.FuncRef;
  limits: Limits = new Limits();
}

export class GlobalType {
  valType: u8 = <u8>ValType.I32;
  mutable: bool = false;
}

// A Wasm 2.0 constant expression is exactly one instruction followed by `end`.
export const enum ConstOp {
  I32 = 0x41, // value = the i32 (sign-extended into i64)
  I64 = 0x42, // value = the i64
  F32 = 0x43, // value = the f32 bits (zero-extended)
  F64 = 0x44, // value = the f64 bits
  RefNull = 0xd0, // index = the reference type byte
  RefFunc = 0xd2, // index = function index
  GlobalGet = 0x23, // index = global index
  V128 = 0xfd, // v128.const (prefix 0xfd, opcode 0x0c): value = the low 8 bytes, high = the high 8
}

export class ConstExpr {
  op: u8 = 0;
  value: i64 = 0;
  high: i64 = 0; // V128 only
  index: u32 = 0;
}

export class Import {
  module: string = "";
  name: string = "";
  kind: u8 = <u8>ExternKind.Func;
  typeIndex: u32 = 0; // Func
  table: TableType | null = null; // Table
  memory: Limits | null = null; // Memory
  global: GlobalType | null = null; // Global
}

export class Global {
  type: GlobalType = new GlobalType();
  init: ConstExpr = new ConstExpr();
}

export class Export {
  name: string = "";
  kind: u8 = <u8>ExternKind.Func;
  index: u32 = 0;
}

export const enum SegmentMode {
  Active = 0,
  Passive = 1,
  Declarative = 2,
}

export class Elem {
  mode: u8 = <u8>SegmentMode.Active;
  table: u32 = 0;
  offset: ConstExpr = new ConstExpr(); // Active only
  elemType: u8 = <u8>ValType.FuncRef;
  inits: ConstExpr[] = []; // each a ref.func / ref.null / global.get (func indices become RefFunc)
}

export class Data {
  mode: u8 = <u8>SegmentMode.Active;
  memory: u32 = 0;
  offset: ConstExpr = new ConstExpr(); // Active only
  start: u32 = 0; // byte range of the contents within Module.bytes
  len: u32 = 0;
}

export class Code {
  // Locals after the parameters, as declared: runs of (count, type).
  localCounts: u32[] = [];
  localTypes: u8[] = [];
  numLocals: u32 = 0; // sum of localCounts (checked against a limit by the decoder)
  bodyStart: u32 = 0; // first byte of the instruction sequence (after the local declarations)
  bodyEnd: u32 = 0; // one past the final `end`
  start: u32 = 0; // first byte of the code entry (its size field), for error offsets
}

export class Module {
  bytes: usize = 0; // the module's bytes, owned by the module (unmanaged block)
  length: u32 = 0;
  instanceCount: u32 = 0; // live instances: a module is dropped only when it has none (runtime/drop.ts)

  types: FuncType[] = [];
  imports: Import[] = [];
  funcs: u32[] = []; // type index of each *defined* function
  tables: TableType[] = []; // defined tables
  memories: Limits[] = []; // defined memories
  globals: Global[] = []; // defined globals
  exports: Export[] = [];
  start: i32 = -1;
  elems: Elem[] = [];
  datas: Data[] = [];
  dataCount: i32 = -1; // from the data count section, -1 when absent
  codes: Code[] = [];

  // Import counts per kind: index spaces list imports first, then definitions.
  numImportedFuncs: u32 = 0;
  numImportedTables: u32 = 0;
  numImportedMemories: u32 = 0;
  numImportedGlobals: u32 = 0;

  // Name section (custom section "name"), function names only; missing names are "".
  funcNames: Map<u32, string> = new Map<u32, string>();
  moduleName: string = "";

  // Whole index spaces (imports + definitions), filled by the decoder after all sections.
  funcTypeIndices: u32[] = []; // type index per function index
  tableTypes: TableType[] = [];
  memoryTypes: Limits[] = [];
  globalTypes: GlobalType[] = [];

  @inline numFuncs(): u32 { return this.funcTypeIndices.length; }
  @inline funcType(funcIndex: u32): FuncType {
    return unchecked(this.types[unchecked(this.funcTypeIndices[funcIndex])]);
  }
}
