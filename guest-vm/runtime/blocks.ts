// Blocks for guest memory contents, which may be most of the VM's memory.
//
// The allocator (AssemblyScript's TLSF, ~lib/rt/tlsf.ts) traps when it must grow the VM's memory
// and cannot, and for a request of 512 MiB or more it may hand out a free block smaller than
// asked. So a large block comes from the allocator only when its free lists already hold one that
// fits (read from its bitmaps: no growth); otherwise the VM's memory is grown here, where failure
// is an answer, and the new pages are made into one used block laid out as the allocator lays out
// its own (header word before the payload, a zero-size used block closing the region), so that
// heap.free takes it back like any other and the pages serve later allocations. Such a block may
// also be larger than the allocator's largest request (1 GiB).

import { ROOT } from "~lib/rt/tlsf";

const OVERHEAD: usize = 4; // the block header (mmInfo)
const TAGS: usize = 3; // FREE | LEFTFREE in mmInfo
const MAX_BLOCK: usize = (1 << 30) - OVERHEAD; // the allocator's largest request
const HALF_MAX: usize = MAX_BLOCK >> 1; // from here on it no longer rounds a search up
const REGION_OVERHEAD: usize = 20; // alignment padding, header, closing block

// Below this, blocks come from the allocator as before: its own growth is small, and the reserve
// below leaves it room.
const SMALL_BLOCK: usize = 1 << 20;

// Pages of the VM's 4 GiB address space guest memory never takes: the allocator's own growth
// (compiled code, frames, snapshots) once guests have the rest, and 32-bit address arithmetic
// stays clear of 4 GiB.
const RESERVE_PAGES: u64 = 1024;
const CEILING_PAGES: u64 = 65536 - RESERVE_PAGES;

// The usable bytes of the block takeBlock or extendBlock last gave, and whether they are all
// zero (fresh pages) rather than whatever the allocator's block held.
export let blockBytes: usize = 0;
export let blockFresh: bool = false;

// The payload size the allocator gives a request of `size` bytes.
function payloadOf(size: usize): usize {
  return size <= 12 ? 12 : ((size + OVERHEAD + 15) & ~15) - OVERHEAD;
}

// Whether the allocator's search for a `size`-byte payload (a valid payload size) finds a free
// block without growing memory: the same size class and bitmaps as its searchBlock.
function allocatorHolds(size: usize): bool {
  const root = changetype<usize>(ROOT);
  let fl: usize;
  let sl: u32;
  if (size < 256) {
    fl = 0;
    sl = <u32>(size >> 4);
  } else {
    const q = size < HALF_MAX ? size + (<usize>1 << (27 - clz<usize>(size))) - 1 : size;
    fl = 31 - clz<usize>(q);
    sl = <u32>((q >> (fl - 4)) ^ 16);
    fl -= 7;
  }
  if ((load<u32>(root + (fl << 2), 4) & (<u32>0xffffffff << sl)) != 0) return true;
  return fl < 31 && (load<u32>(root) & (<u32>0xffffffff << <u32>(fl + 1))) != 0;
}

// A block of at least `size` bytes, or 0 when the VM's memory cannot hold it (nothing changed).
export function takeBlock(size: usize): usize {
  if (size < SMALL_BLOCK) {
    blockBytes = size;
    blockFresh = false;
    return heap.alloc(size);
  }
  if (size <= MAX_BLOCK) {
    let want = <u64>payloadOf(size);
    // From HALF_MAX on, a size class may hold blocks smaller than the request: ask for the first
    // payload every block of the next class has (sizes are 12 mod 16).
    if (want >= <u64>HALF_MAX) {
      const w = <u64>1 << <u64>(27 - clz<usize>(<usize>want));
      want = ((want - 12 + w - 1) & ~(w - 1)) + 12;
    }
    if (want <= <u64>MAX_BLOCK && allocatorHolds(<usize>want)) {
      blockBytes = <usize>want;
      blockFresh = false;
      return heap.alloc(<usize>want);
    }
  }
  const pages = (<u64>size + REGION_OVERHEAD + 0xffff) >> 16;
  if (<u64>memory.size() + pages > CEILING_PAGES) return 0;
  const first = memory.grow(<i32>pages);
  if (first < 0) return 0;
  const start = <usize>first << 16;
  const end = start + (<usize>pages << 16);
  const header = start + 12; // the payload 16-aligned, as the allocator's
  const bytes = end - OVERHEAD - header - OVERHEAD;
  store<usize>(header, bytes);
  store<usize>(end - OVERHEAD, 0);
  blockBytes = bytes;
  blockFresh = true;
  return header + OVERHEAD;
}

// Grows block `ptr` in place when it ends the VM's memory: the new pages join it, to `want` bytes
// or as many as the VM's memory holds, at least `need`. False (nothing changed) when it does not
// end the memory or the memory cannot grow by `need`.
export function extendBlock(ptr: usize, want: usize, need: usize): bool {
  const info = load<usize>(ptr - OVERHEAD);
  const bytes = info & ~TAGS;
  if (need <= bytes) return false;
  const closing = ptr + bytes;
  const have = <u64>memory.size();
  if (<u64>closing + OVERHEAD != have << 16 || load<usize>(closing) != 0) return false;
  const least = (<u64>(need - bytes) + 0xffff) >> 16;
  if (have + least > CEILING_PAGES) return false;
  let pages = want > need ? (<u64>(want - bytes) + 0xffff) >> 16 : least;
  if (have + pages > CEILING_PAGES) pages = CEILING_PAGES - have;
  if (memory.grow(<i32>pages) < 0) {
    if (pages == least || memory.grow(<i32>least) < 0) return false;
    pages = least;
  }
  const added = <usize>pages << 16;
  store<usize>(ptr - OVERHEAD, info + added);
  store<usize>(closing + added, 0);
  blockBytes = bytes + added;
  blockFresh = true;
  return true;
}
