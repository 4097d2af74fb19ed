// The CLI's help text, and the two kinds of failure a user causes: a wrong command line (usage is
// shown) and anything else they asked for that cannot be done (a missing file, a bad module).

export class UsageError extends Error {
  override name = 'UsageError';
}

/** A user's mistake that is not about the command line: printed as `error: …`, exit status 1. */
export class CliError extends Error {
  override name = 'CliError';
}

export const USAGE = `handover — a self-hosted WebAssembly VM

Usage:
  handover run [options] <module.wasm> [options] [--] [guest args…]
  handover run [options] <module.wasm> --invoke <export> [args…]
  handover help | --help | -h

Commands:
  run       Run a WASI command (its _start) in the VM. The guest's stdin, stdout and stderr are
            this process's; the exit status is the guest's exit code. The guest's argv[0] is the
            module's file name without its directory and .wasm ending, followed by the guest args.
            Options go before the module or directly after it; the first other argument (or
            everything after --) starts the guest args, so write  run m.wasm -- --flag  to pass
            an argument that begins with --.
  help      Show this text.

Options of run:
  --invoke <export>   Call the exported function <export> instead of _start, with the arguments
                      that follow, parsed by the export's parameter types. Any module can be
                      invoked: one without imports as it is, one with WASI imports with them
                      served (and its _initialize, if exported, run first). Each result is printed
                      on its own line:
                        i32:<n>, i64:<n>      signed decimal
                        f32:0x<8 hex digits>  f64:0x<16 hex digits>   the bits of the float
                        ref.null, ref.func:<index in the module>, ref.extern:<n>
                      Integer arguments: decimal or 0x-hex, signed or unsigned. Float arguments:
                      decimal (1.5), the hex of their bits (0x3ff0000000000000), nan, -nan, inf,
                      -inf. Reference arguments: null, or a number for an externref.
  --dir <host>[::<guest>]
                      Preopen the host directory <host> for the guest, under the name <guest>
                      (default: <host> as written). Repeatable. The guest cannot reach outside
                      its preopened directories.
  --env <NAME>=<value>
                      Set an environment variable for the guest. Repeatable. The guest sees only
                      the variables given this way.
  --fuel <n>          Stop the guest after it has executed <n> instructions of its bytecode (every
                      executed instruction counts one; running out may be noticed at the next
                      basic-block boundary, never after more than <n>): exit status 2.
  --monitor <names>   Count inside the VM and print tables on stderr at exit; <names> is a comma
                      list of count, opcodes, calls, coverage, loops, branches, memory. Every
                      executed bytecode instruction counts once under its own mnemonic; block,
                      loop and if count when entered, else when the then-arm falls into it, end
                      when control falls through it (not when a branch leaves the block).
  --monitor-out <file>
                      Write the monitors (those of --monitor, or all) to <file> as JSON:
                      {"count": N, "opcodes": {"i32.add": N, …}, …}.
  -h, --help          Show this text.

Exit status:
  run        the guest's exit code (0 when _start returns); with --invoke 0 on success
  134        the guest trapped: "trap: <message>" on stderr
  2          the guest ran out of --fuel: "out of fuel: …" on stderr (a guest may exit 2 too)
  1          a bad command line (usage is shown), a file that cannot be read, a module that is
             malformed, invalid or cannot be linked: "error: <message>" on stderr
  70         an internal error of handover itself
`;
