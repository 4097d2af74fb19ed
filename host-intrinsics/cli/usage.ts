// The CLI's help text, and the two kinds of failure a user causes: a wrong command line (one line
// and a hint to --help) and anything else they asked for that cannot be done (a missing file, a
// bad module).

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
  handover run [options] <module.wasm> --suspend-after <n> --snapshot <file> [guest args…]
  handover resume <file> [--host <host>] [--dir <host>::<guest>]… [--suspend-after <n> --snapshot <file2>] [--verbose]
  handover inspect <file>
  handover node --name <name> [--nats <url>] [--creds <file>] [--key <file>] [--dir <host>::<guest>]… [--work-dir <dir>]
                [--max-workloads <n>] [--max-memory <MiB>] [--max-files <MiB>] [--max-fuel <n>]
  handover run --on <node> [--id <name>] [--detach] [--checkpoint-every <s> [--exactly-once]] [--env N=v]
               [--dir <host>::<guest>]… [--nats <url>] [--creds <file>] <module.wasm> [args…]
  handover move <id> --to <node> [--stop-and-copy]      handover attach <id>      handover ps      handover nodes
  handover help | --help | -h
  handover version | --version | -V

Commands:
  run       Run a WASI command (its _start) in the VM. The guest's stdin, stdout and stderr are
            this process's; the exit status is the guest's exit code. The guest's argv[0] is the
            module's file name without its directory and .wasm ending, followed by the guest args.
            Options go before the module or directly after it; the first other argument (or
            everything after --) starts the guest args, so write  run m.wasm -- --flag  to pass
            an argument that begins with --.
  resume    Continue a guest from a snapshot file written by run or resume --suspend-after, on
            the host engine --host names (default node), and print the rest of its output; the
            exit status is the guest's. Its WASI state comes from the file: args, environment,
            preopened directories (each granted a host directory again with --dir) and open files
            (reopened by path under them, at their offsets). Whatever
            engine interprets the guest, its system calls are served by this process: the guest
            is handed over to it at every host call and back. With --suspend-after <n> and
            --snapshot <file2> it is suspended again after <n> more instructions (chains of
            handovers: node → spidermonkey → chromium → node …).
  inspect   Describe a snapshot file: format version, sizes of its sections, the embedded
            module, memory pages stored, the guest's frames (with function names from the
            module's name section), instructions executed so far and on which hosts, a pending
            host call, the WASI state (args, preopens, open files with offsets).
  node      Join a cluster (a NATS server with JetStream: nats-server -js) as the node <name> and
            run the workloads sent to it, until SIGTERM or Ctrl-C; then hand them to another node.
            --max-workloads (default 16), --max-memory in MiB (default 4096) and --max-files, the
            MiB a workload's directories may hold (default 64), limit what it takes; --max-fuel <n>
            ends a workload with a trap once it has executed <n> instructions in all (checked
            between its 10 ms slices), and refuses one that arrives past them. It keeps the
            workloads' directories under --work-dir (default: handover-node-<name> in the system's
            temp directory). --dir <host>::<guest> preopens a directory of the node's own for every
            workload it runs; it stays on the node, and a workload that has it preopened moves
            only to nodes with a --dir of the same guest name.
            --key <file> is the cluster key (16 bytes or more, the same file on every node): the
            pages, snapshots and checkpoints of a move are sealed with it (HMAC-SHA256), and a
            move message or checkpoint without a good seal is refused.
  run --on  Run the WASI command on the cluster node <node>; output and exit status as a local run.
            --id names the workload (default: a generated id, printed on stderr); --detach returns
            at once and leaves it running; Ctrl-C stops it. --dir sends the directory's contents
            with the workload (up to the node's --max-files); they travel with it from node to
            node, and when it ends the directory holds what the guest left there, as after a
            local run. --checkpoint-every <s> checkpoints it
            into JetStream every <s> seconds (after the first, only changed 4 KiB blocks); if its
            node dies, another resumes it from the last checkpoint, and the output since then is
            shown again (the client says so). With --exactly-once output is shown only once a
            checkpoint covers it, so the client sees exactly the bytes of one uninterrupted run.
            A node that leaves with no other node to take a workload checkpoints it; the next
            node to join resumes it.
  move      Move a running workload to another node while it runs (pre-copy of its memory) and
            print rounds, bytes sent, total time and downtime. --stop-and-copy stops the guest
            first and sends all of its memory with it stopped (for comparison).
  attach    Show a workload's output from its start until it ends; exit status as run's.
  ps        The workloads: id, node, state, instructions so far, memory, since.
  nodes     The nodes: name, engine, workloads, free memory, limits, last heartbeat.
            Every cluster command takes --nats <url> (default $HANDOVER_NATS, then
            nats://127.0.0.1:4222) and --creds <file> (a NATS credentials file, or user:password).
  help      Show this text.
  version   Print handover's version.

Hosts (resume --host):
  node          this Node process (V8, default tiering)
  node-liftoff  a child process  node --liftoff-only  (V8's baseline compiler only)
  spidermonkey  a child process  js102  (SpiderMonkey 102 shell: apt-get install libmozjs-102-dev)
  chromium      headless /usr/bin/chromium through playwright-core (apt-get install chromium)
  vm            the VM running on itself: build/vm.wasm interpreted by the VM on this Node (slow)
  A host that is not installed is an error (exit status 1) saying how to install it.

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
  --max-memory-pages <n>, --max-table-elements <n>, --max-call-depth <n>
                      Lower the VM's limits (defaults 65535 pages per memory, as far as the VM's
                      own memory holds them; 10000000 elements per table, 50000 calls deep). Growing past a limit fails as the spec allows
                      (memory.grow and table.grow return -1), a module that needs more at start
                      is refused (exit 1), a deeper call traps "call stack exhausted" (exit 134).
  --intrinsics <classes>
                      Hand operations to the host's native intrinsics: all, none, or a comma list
                      of bulk, float, memory (default: this host's measured choice, none on Node).
  --monitor <names>   Count inside the VM and print tables on stderr at exit; <names> is a comma
                      list of count, opcodes, calls, coverage, loops, branches, memory, indirect
                      (calls: calls, self and total instructions per function, total counting
                      callees and each recursion once; indirect: call_indirect targets per call
                      site). Every
                      executed bytecode instruction counts once under its own mnemonic; block,
                      loop and if count when entered, else when the then-arm falls into it, end
                      when control falls through it (not when a branch leaves the block).
  --monitor-out <file>
                      Write the monitors (those of --monitor, or all) to <file> as JSON:
                      {"count": N, "opcodes": {"i32.add": N, …}, …}.
  --memory-trace <file>
                      Stream every load and store to <file>, in execution order: a 16-byte header
                      ("HOVRMTRC", u32 version 1, u32 record size 8), then 8 bytes per access:
                      u32 effective address, u8 size, u8 flags (bit 0: store), u16 0; all
                      little-endian. Recorded in the VM, written whenever its buffer fills.
  --suspend-after <n> Suspend the guest after it has executed <n> instructions, write it with its
                      WASI state to the --snapshot file and exit 0 with a note on stderr; the
                      output so far is printed. A guest that finishes first runs as usual and no
                      snapshot is written. Must be given with --snapshot.
  --snapshot <file>   Where --suspend-after writes the snapshot.
  -h, --help          Show this text.

Options of resume:
  --host <host>       Where the guest continues (see Hosts). Default: node.
  --dir <host>::<guest>
                      Grant the host directory <host> to the guest's preopen <guest>. Every
                      preopen in the snapshot needs one: a snapshot records host paths, but they
                      grant nothing; its open files are reopened under the directories given here.
  --suspend-after <n>, --snapshot <file2>
                      As for run: suspend again after <n> more instructions, into <file2>.
  --verbose           A line on stderr when the guest starts on the host and where it stopped.

Exit status:
  run        the guest's exit code (0 when _start returns); with --invoke 0 on success;
             0 when --suspend-after suspended it
  resume     the same as run
  134        the guest trapped: "trap: <message>" on stderr
  2          the guest ran out of --fuel: "out of fuel: …" on stderr (a guest may exit 2 too)
  1          a bad command line (one line, and a hint to --help), a file that cannot be read, a module that is
             malformed, invalid or cannot be linked: "error: <message>" on stderr
  70         an internal error of handover itself
`;
