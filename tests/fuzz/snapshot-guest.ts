// The guest of the snapshot tampering tests (tests/hostile/snapshot-tamper.test.ts) and of the
// snapshot reproducers: recursion several frames deep, a loop, memory, a mutable i64 global, a
// funcref global, a table written and called through (call_indirect), a funcref local and a
// funcref parameter, a passive data segment (memory.init, data.drop) and a passive element
// segment (table.init) — so a snapshot holds frames with operands, reference-typed slots, table
// entries, memory pages and segment state.

import type { Value } from '../../host-intrinsics/vm.js';
import { wat } from '../helpers/wat.js';

export const SNAPSHOT_GUEST = wat(`(module
  (memory (export "mem") 1)
  (global $g (mut i64) (i64.const 0))
  (global $gf (mut funcref) (ref.null func))
  (type $t (func (param i64) (result i64)))
  (table $tab 4 funcref)
  (elem (i32.const 0) $sq $dbl)
  (elem $pe funcref (ref.func $sq))
  (data $d "0123456789abcdef")
  (func $sq (type $t) (i64.mul (local.get 0) (local.get 0)))
  (func $dbl (type $t) (i64.add (local.get 0) (local.get 0)))
  (func $rec (param $d i32) (param $acc i64) (param $f funcref) (result i64)
    (if (result i64) (i32.eqz (local.get $d)) (then (local.get $acc))
      (else
        (table.set $tab (i32.const 2) (local.get $f))
        (global.set $gf (local.get $f))
        (i64.store (i32.mul (i32.and (local.get $d) (i32.const 255)) (i32.const 8)) (local.get $acc))
        (global.set $g (i64.add (global.get $g) (call_indirect (type $t) (local.get $acc) (i32.const 2))))
        (i64.add (i64.const 1)
          (call $rec (i32.sub (local.get $d) (i32.const 1))
            (i64.xor (local.get $acc) (i64.extend_i32_u (local.get $d)))
            (select (result funcref) (table.get $tab (i32.const 0)) (global.get $gf) (i32.and (local.get $d) (i32.const 1))))))))
  (func (export "run") (param $n i32) (result i64) (local $i i32) (local $s i64) (local $f funcref)
    (local.set $f (table.get $tab (i32.const 1)))
    (memory.init $d (i32.const 4000) (i32.const 0) (i32.const 16))
    (loop $l
      (local.set $s (i64.add (local.get $s) (call $rec (i32.const 24) (i64.extend_i32_u (local.get $i)) (local.get $f))))
      (table.set $tab (i32.const 3) (global.get $gf))
      (local.set $s (i64.add (local.get $s) (call_indirect (type $t) (local.get $s) (i32.const 3))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (data.drop $d)
    (table.init $tab $pe (i32.const 1) (i32.const 0) (i32.const 1))
    (i64.add (local.get $s) (i64.add (global.get $g) (i64.load (i32.const 4000))))))`);

/** The argument of its export "run" (the iteration count). */
export const SNAPSHOT_GUEST_ARG: Value = { type: 'i32', value: 12 };
