;; Scores every row of a row-major float32 matrix against one vector: out[i] = Σ_f M[i,f]·v[f].
;; f32x4 SIMD, two accumulators per row; d must be a multiple of 8 (the caller pads).
;; Build: npm run wasm (writes dot-wasm.ts); test/serving/kernels.test.ts checks it is current.
(module
  (memory (export "memory") 1)
  (func (export "scores") (param $m i32) (param $v i32) (param $out i32) (param $n i32) (param $d i32)
    (local $i i32) (local $f i32) (local $row i32) (local $a v128) (local $b v128) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 2)))
    (local.set $row (local.get $m))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $a (v128.const f32x4 0 0 0 0))
        (local.set $b (v128.const f32x4 0 0 0 0))
        (local.set $f (i32.const 0))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $f) (local.get $rowBytes)))
            (local.set $a (f32x4.add (local.get $a)
              (f32x4.mul (v128.load (i32.add (local.get $row) (local.get $f)))
                         (v128.load (i32.add (local.get $v) (local.get $f))))))
            (local.set $b (f32x4.add (local.get $b)
              (f32x4.mul (v128.load offset=16 (i32.add (local.get $row) (local.get $f)))
                         (v128.load offset=16 (i32.add (local.get $v) (local.get $f))))))
            (local.set $f (i32.add (local.get $f) (i32.const 32)))
            (br $cols)))
        (local.set $a (f32x4.add (local.get $a) (local.get $b)))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a)) (f32x4.extract_lane 1 (local.get $a)))
            (f32.add (f32x4.extract_lane 2 (local.get $a)) (f32x4.extract_lane 3 (local.get $a)))))
        (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))))
