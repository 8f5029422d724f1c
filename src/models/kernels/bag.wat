;; Sparse rows times weight tables with f32x4 SIMD: EINMF's feedback bags (two tables, one
;; pattern: src/models/nn/feedback-bag.ts) and DMF's sparse first layer (one table:
;; src/models/nn/sparse-linear.ts). Rows of a CSR matrix (indptr, indices: i32; values, scale: f32)
;; against row-major d-wide weight tables; d is a multiple of 4. Pointers are byte offsets.
;; Build: npm run wasm (writes bag-wasm.ts); test/serving/kernels.test.ts checks it is current.
(module
  ;; Imported and shared: training threads run on the same weights and inputs
  ;; (src/models/parallel/), each in its own scratch region.
  (import "env" "memory" (memory 1 65536 shared))

  ;; out[k] = scale[r] · Σ_p (values[p]·WE[indices[p]] + WI[indices[p]]) for r = rows[k].
  (func (export "forward")
    (param $indptr i32) (param $indices i32) (param $values i32) (param $scale i32)
    (param $we i32) (param $wi i32) (param $rows i32) (param $n i32) (param $out i32) (param $d i32)
    (local $k i32) (local $r i32) (local $p i32) (local $end i32) (local $o i32) (local $w i32)
    (local $f i32) (local $bytes i32) (local $x v128) (local $s v128)
    (local.set $bytes (i32.shl (local.get $d) (i32.const 2)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $r (i32.load (i32.add (local.get $rows) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $o (i32.add (local.get $out) (i32.mul (local.get $k) (local.get $bytes))))
        (memory.fill (local.get $o) (i32.const 0) (local.get $bytes))
        (local.set $p (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $end (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
        (block $nnz_done
          (loop $nnz_loop
            (br_if $nnz_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $x (f32x4.splat (f32.load (i32.add (local.get $values) (i32.shl (local.get $p) (i32.const 2))))))
            (local.set $w (i32.mul (i32.load (i32.add (local.get $indices) (i32.shl (local.get $p) (i32.const 2)))) (local.get $bytes)))
            (local.set $f (i32.const 0))
            (block $f_done
              (loop $f_loop
                (br_if $f_done (i32.ge_u (local.get $f) (local.get $bytes)))
                (v128.store (i32.add (local.get $o) (local.get $f))
                  (f32x4.add
                    (v128.load (i32.add (local.get $o) (local.get $f)))
                    (f32x4.add
                      (f32x4.mul (local.get $x) (v128.load (i32.add (local.get $we) (i32.add (local.get $w) (local.get $f)))))
                      (v128.load (i32.add (local.get $wi) (i32.add (local.get $w) (local.get $f)))))))
                (local.set $f (i32.add (local.get $f) (i32.const 16)))
                (br $f_loop)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $nnz_loop)))
        (local.set $s (f32x4.splat (f32.load (i32.add (local.get $scale) (i32.shl (local.get $r) (i32.const 2))))))
        (local.set $f (i32.const 0))
        (block $scale_done
          (loop $scale_loop
            (br_if $scale_done (i32.ge_u (local.get $f) (local.get $bytes)))
            (v128.store (i32.add (local.get $o) (local.get $f))
              (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $o) (local.get $f)))))
            (local.set $f (i32.add (local.get $f) (i32.const 16)))
            (br $scale_loop)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows_loop))))

  ;; For r = rows[k] and g = scale[r]·dOut[k]: GE[indices[p]] += values[p]·g and GI[indices[p]] += g
  ;; over the row's entries. $tmp is d floats of scratch.
  (func (export "backward")
    (param $indptr i32) (param $indices i32) (param $values i32) (param $scale i32)
    (param $ge i32) (param $gi i32) (param $rows i32) (param $n i32) (param $dout i32) (param $d i32) (param $tmp i32)
    (local $k i32) (local $r i32) (local $p i32) (local $end i32) (local $o i32) (local $w i32)
    (local $f i32) (local $bytes i32) (local $x v128) (local $s v128) (local $g v128) (local $at i32)
    (local.set $bytes (i32.shl (local.get $d) (i32.const 2)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $r (i32.load (i32.add (local.get $rows) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $o (i32.add (local.get $dout) (i32.mul (local.get $k) (local.get $bytes))))
        (local.set $s (f32x4.splat (f32.load (i32.add (local.get $scale) (i32.shl (local.get $r) (i32.const 2))))))
        (local.set $f (i32.const 0))
        (block $tmp_done
          (loop $tmp_loop
            (br_if $tmp_done (i32.ge_u (local.get $f) (local.get $bytes)))
            (v128.store (i32.add (local.get $tmp) (local.get $f))
              (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $o) (local.get $f)))))
            (local.set $f (i32.add (local.get $f) (i32.const 16)))
            (br $tmp_loop)))
        (local.set $p (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $end (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
        (block $nnz_done
          (loop $nnz_loop
            (br_if $nnz_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $x (f32x4.splat (f32.load (i32.add (local.get $values) (i32.shl (local.get $p) (i32.const 2))))))
            (local.set $w (i32.mul (i32.load (i32.add (local.get $indices) (i32.shl (local.get $p) (i32.const 2)))) (local.get $bytes)))
            (local.set $f (i32.const 0))
            (block $f_done
              (loop $f_loop
                (br_if $f_done (i32.ge_u (local.get $f) (local.get $bytes)))
                (local.set $g (v128.load (i32.add (local.get $tmp) (local.get $f))))
                (local.set $at (i32.add (local.get $w) (local.get $f)))
                (v128.store (i32.add (local.get $ge) (local.get $at))
                  (f32x4.add (v128.load (i32.add (local.get $ge) (local.get $at))) (f32x4.mul (local.get $x) (local.get $g))))
                (v128.store (i32.add (local.get $gi) (local.get $at))
                  (f32x4.add (v128.load (i32.add (local.get $gi) (local.get $at))) (local.get $g)))
                (local.set $f (i32.add (local.get $f) (i32.const 16)))
                (br $f_loop)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $nnz_loop)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows_loop))))
  ;; One table: out[k] = scale[r] · Σ_p values[p]·W[indices[p]].
  (func (export "forward1")
    (param $indptr i32) (param $indices i32) (param $values i32) (param $scale i32)
    (param $we i32) (param $rows i32) (param $n i32) (param $out i32) (param $d i32)
    (local $k i32) (local $r i32) (local $p i32) (local $end i32) (local $o i32) (local $w i32)
    (local $f i32) (local $bytes i32) (local $x v128) (local $s v128)
    (local.set $bytes (i32.shl (local.get $d) (i32.const 2)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $r (i32.load (i32.add (local.get $rows) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $o (i32.add (local.get $out) (i32.mul (local.get $k) (local.get $bytes))))
        (memory.fill (local.get $o) (i32.const 0) (local.get $bytes))
        (local.set $p (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $end (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
        (block $nnz_done
          (loop $nnz_loop
            (br_if $nnz_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $x (f32x4.splat (f32.load (i32.add (local.get $values) (i32.shl (local.get $p) (i32.const 2))))))
            (local.set $w (i32.mul (i32.load (i32.add (local.get $indices) (i32.shl (local.get $p) (i32.const 2)))) (local.get $bytes)))
            (local.set $f (i32.const 0))
            (block $f_done
              (loop $f_loop
                (br_if $f_done (i32.ge_u (local.get $f) (local.get $bytes)))
                (v128.store (i32.add (local.get $o) (local.get $f))
                  (f32x4.add
                    (v128.load (i32.add (local.get $o) (local.get $f)))
                    (f32x4.mul (local.get $x) (v128.load (i32.add (local.get $we) (i32.add (local.get $w) (local.get $f)))))))
                (local.set $f (i32.add (local.get $f) (i32.const 16)))
                (br $f_loop)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $nnz_loop)))
        (local.set $s (f32x4.splat (f32.load (i32.add (local.get $scale) (i32.shl (local.get $r) (i32.const 2))))))
        (local.set $f (i32.const 0))
        (block $scale_done
          (loop $scale_loop
            (br_if $scale_done (i32.ge_u (local.get $f) (local.get $bytes)))
            (v128.store (i32.add (local.get $o) (local.get $f))
              (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $o) (local.get $f)))))
            (local.set $f (i32.add (local.get $f) (i32.const 16)))
            (br $scale_loop)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows_loop))))

  ;; One table: G[indices[p]] += values[p]·scale[r]·dOut[k].
  (func (export "backward1")
    (param $indptr i32) (param $indices i32) (param $values i32) (param $scale i32)
    (param $ge i32) (param $rows i32) (param $n i32) (param $dout i32) (param $d i32) (param $tmp i32)
    (local $k i32) (local $r i32) (local $p i32) (local $end i32) (local $o i32) (local $w i32)
    (local $f i32) (local $bytes i32) (local $x v128) (local $s v128) (local $g v128) (local $at i32)
    (local.set $bytes (i32.shl (local.get $d) (i32.const 2)))
    (block $rows_done
      (loop $rows_loop
        (br_if $rows_done (i32.ge_u (local.get $k) (local.get $n)))
        (local.set $r (i32.load (i32.add (local.get $rows) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $o (i32.add (local.get $dout) (i32.mul (local.get $k) (local.get $bytes))))
        (local.set $s (f32x4.splat (f32.load (i32.add (local.get $scale) (i32.shl (local.get $r) (i32.const 2))))))
        (local.set $f (i32.const 0))
        (block $tmp_done
          (loop $tmp_loop
            (br_if $tmp_done (i32.ge_u (local.get $f) (local.get $bytes)))
            (v128.store (i32.add (local.get $tmp) (local.get $f))
              (f32x4.mul (local.get $s) (v128.load (i32.add (local.get $o) (local.get $f)))))
            (local.set $f (i32.add (local.get $f) (i32.const 16)))
            (br $tmp_loop)))
        (local.set $p (i32.load (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $end (i32.load offset=4 (i32.add (local.get $indptr) (i32.shl (local.get $r) (i32.const 2)))))
        (block $nnz_done
          (loop $nnz_loop
            (br_if $nnz_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $x (f32x4.splat (f32.load (i32.add (local.get $values) (i32.shl (local.get $p) (i32.const 2))))))
            (local.set $w (i32.mul (i32.load (i32.add (local.get $indices) (i32.shl (local.get $p) (i32.const 2)))) (local.get $bytes)))
            (local.set $f (i32.const 0))
            (block $f_done
              (loop $f_loop
                (br_if $f_done (i32.ge_u (local.get $f) (local.get $bytes)))
                (local.set $g (v128.load (i32.add (local.get $tmp) (local.get $f))))
                (local.set $at (i32.add (local.get $w) (local.get $f)))
                (v128.store (i32.add (local.get $ge) (local.get $at))
                  (f32x4.add (v128.load (i32.add (local.get $ge) (local.get $at))) (f32x4.mul (local.get $x) (local.get $g))))
                (local.set $f (i32.add (local.get $f) (i32.const 16)))
                (br $f_loop)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $nnz_loop)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows_loop)))))
