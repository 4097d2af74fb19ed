// The codes the VM and its hosts exchange: run statuses, trap kinds with the spec's messages,
// suspend reasons, error kinds, probe and recording bits, probe events and snapshot section tags.
// scripts/gen-vocabulary.mjs derives from it the AssemblyScript constants (guest-vm/vocabulary.ts),
// the TypeScript tables (host-intrinsics/vocabulary.ts), the constants of the classic scripts
// (host-intrinsics/hosts/remote/core.js, bench/kernel.js), the WIT enums (wit/vm.wit) and the
// codes section of guest-vm/ABI.md. Edit here, then `npm run gen`.
//
// `name` is the word for people and the source of every identifier (AS STATUS_HOST_CALL, TS
// Status.HostCall, WIT host-call); codes are part of the ABI and of snapshots: never renumber.

/** What `invoke` and `resume` return. */
export const statuses = [
  { code: 0, name: "completed", doc: "the function returned: results in io cells 0..nr-1" },
  { code: 1, name: "trap", doc: "trapped: the activation is unwound (`trap_code`, `error_message`); the store stays usable" },
  { code: 2, name: "host call", doc: "a host function is called (`host_call_func`): serve it, then `resume()`" },
  { code: 3, name: "suspended", doc: "the activation is pending (`suspend_reason`): `resume()` continues it" },
  { code: 4, name: "probe", doc: "a probe fired (`probe_event`): `resume()` continues after the event" },
];

/** `trap_code()` after status 1; the messages are the spec's (the spec suite compares them). */
export const traps = [
  { code: 1, name: "unreachable", message: "unreachable" },
  { code: 2, name: "div zero", message: "integer divide by zero" },
  { code: 3, name: "overflow", message: "integer overflow" },
  { code: 4, name: "conversion", message: "invalid conversion to integer" },
  { code: 5, name: "memory", message: "out of bounds memory access" },
  { code: 6, name: "table", message: "out of bounds table access" },
  { code: 7, name: "undefined", message: "undefined element" },
  { code: 8, name: "uninitialized", message: "uninitialized element" },
  { code: 9, name: "signature", message: "indirect call type mismatch" },
  { code: 10, name: "stack", message: "call stack exhausted" },
];
/** What `trapMessage` says for a code that is none of the above (0: a call to an unknown address). */
export const unknownTrapMessage = "trap";

/** `suspend_reason()` after status 3. */
export const suspendReasons = [
  { code: 1, name: "slice", doc: "the slice ran out: resume at will" },
  { code: 2, name: "fuel", doc: "out of fuel (metered code only): add fuel, then resume" },
];

/** `error_kind()`. `wit`: the doc of the case in the component's enum error-kind, where it is one. */
export const errorKinds = [
  { code: 0, name: "none", doc: "no error" },
  { code: 1, name: "malformed", doc: "decoding failed (assert_malformed)", wit: "The bytes are not a module (decoding failed)." },
  { code: 2, name: "invalid", doc: "validation failed (assert_invalid)", wit: "The module does not validate." },
  { code: 3, name: "unlinkable", doc: "import resolution or import type matching failed (assert_unlinkable)", wit: "An import is missing or has the wrong kind or type." },
  { code: 4, name: "uninstantiable", doc: "a segment initialisation trapped (assert_uninstantiable)", wit: "Initialising an element or data segment trapped." },
  { code: 5, name: "limit", doc: "a limit of this VM was exceeded, or a host mistake (an unknown id, address or pointer)", wit: "A limit of this VM was exceeded." },
  { code: 6, name: "snapshot", doc: "a snapshot cannot be taken, or is refused on restore" },
];
// The component's error-kind is the core's kind less one, then this case (which the component
// also reports for kinds it has no case for).
export const witMisuse = {
  name: "misuse",
  wit: "The host passed something that does not exist or does not fit (an unknown address, values\nof the wrong types, `resume` with nothing to resume). Nothing changed.",
};

/**
 * Callback probes, the bits of `set_probes`' kinds. `config`: the key of the host's ProbeConfig
 * and the flag of the component's probe-kinds (`site` has no flag there: sites are listed).
 */
export const probeKinds = [
  { bit: 1, name: "instr", config: "instruction", doc: "before every executed bytecode instruction" },
  { bit: 2, name: "site", config: "sites", doc: "before the instructions at listed (function index, offset)" },
  { bit: 4, name: "entry", config: "entry", doc: "on entry to every function" },
  { bit: 8, name: "exit", config: "exit", doc: "before every return" },
  { bit: 16, name: "memory", config: "memory", doc: "before every load and store: effective address, size, load or store" },
  { bit: 32, name: "branch", config: "branches", doc: "before br_if and if (taken or not) and br_table (the index)" },
  { bit: 64, name: "call", config: "calls", doc: "before call and call_indirect: the target" },
];

/** In-VM recordings, the bits of `set_probes`' records. `config`: the key of RecordingConfig. */
export const recordings = [
  { bit: 1, name: "memory", config: "memoryTrace", doc: "memory trace (`trace_take`)" },
  { bit: 2, name: "indirect", config: "indirectCalls", doc: "(call site, target) histogram of call_indirect" },
  { bit: 4, name: "inclusive", config: "inclusive", doc: "inclusive instructions per function (meters the code)" },
];

/** `probe_event` cell 0: 1 + the bit number of the probe kind, then a full trace buffer. */
export const probeEvents = [
  { code: 1, name: "instr", event: "instruction" },
  { code: 2, name: "site", event: "site" },
  { code: 3, name: "entry", event: "entry" },
  { code: 4, name: "exit", event: "exit" },
  { code: 5, name: "memory", event: "memory" },
  { code: 6, name: "branch", event: "branch" },
  { code: 7, name: "call", event: "call" },
  { code: 8, name: "trace full", event: "trace-full" },
];

/**
 * Snapshot sections (guest-vm/snapshot/FORMAT.md has their layouts), in the order a snapshot
 * holds them: a reader accepts each at most once, in this order.
 */
export const snapshotSections = [
  { tag: 1, name: "state" },
  { tag: 2, name: "globals" },
  { tag: 3, name: "memory" },
  { tag: 4, name: "tables" },
  { tag: 5, name: "segments" },
  { tag: 6, name: "frames" },
  { tag: 7, name: "host" },
  { tag: 10, name: "host call" },
  { tag: 9, name: "counters" },
  { tag: 11, name: "probes" },
  { tag: 8, name: "module" },
];
