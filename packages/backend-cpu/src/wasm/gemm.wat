;; Packed single-precision GEMM with WebAssembly SIMD (f32x4), hand-written.
;;
;;   C[m×n] = op(A)[m×k] · op(B)[k×n], all row-major float32 in this module's memory.
;;
;; The transpose flags become strides: element (i, p) of op(A) is A[i·ars + p·aps] and element
;; (j, p) of op(B)ᵀ is B[j·brs + p·bps] (strides in floats). Both operands are packed into
;; panels interleaved along k (A: 4 rows of C per panel, B: 8 columns of C per panel), so the
;; 4×8 micro-kernel reads two sequential streams whatever the flags, and A·B, A·Bᵀ, Aᵀ·B run at
;; the same speed. Loop nest (Goto/BLIS): k in blocks of kcMax (a B panel, 8·kc floats, stays
;; in L1), m in blocks of mcMax (the packed A block stays in L2), then B panels × A panels.
;;
;; The caller places A, B, C, the two pack buffers and a 128-byte scratch tile for edge tiles
;; (16-byte aligned) and grows memory as needed. C has row pitch ldc floats, so that threads
;; sharing one memory can each compute a block of rows or columns of the same C (each with its
;; own pack buffers and scratch tile): every element is summed in the same order either way.
;; scripts/build-wasm.mjs also assembles a variant that imports a shared memory (the thread pool).
(module
  (memory (export "memory") 1)

  ;; pack: rows [0, rows) × k [k0, k0+kc) of the logical matrix X (X[r, p] = src[r·rs + p·ps])
  ;; into panels of R rows (R = 4 or 8): dst[(panel·kc + p)·R + lane] = X[panel·R + lane, k0 + p],
  ;; zero-filled past the last row. Works on groups of 4 rows: a 4×4 shuffle transpose when
  ;; rows are contiguous along k (ps = 1), a vector copy when adjacent rows are adjacent in
  ;; memory (rs = 1), scalar moves otherwise (and for the ragged last group).
  (func $pack (export "pack") (param $src i32) (param $rows i32) (param $k0 i32) (param $kc i32)
              (param $rs i32) (param $ps i32) (param $dst i32) (param $R i32)
    (local $q i32) (local $qend i32) (local $d i32) (local $dstep i32) (local $p i32)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32) (local $sstep i32)
    (local $r i32) (local $row i32) (local $kc4 i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    ;; groups cover ceil(rows / R) · R rows
    (local.set $qend (i32.mul (i32.div_u (i32.add (local.get $rows) (i32.sub (local.get $R) (i32.const 1)))
                                         (local.get $R))
                              (local.get $R)))
    (local.set $dstep (i32.shl (local.get $R) (i32.const 2)))
    (local.set $kc4 (i32.and (local.get $kc) (i32.const -4)))
    (local.set $q (i32.const 0))
    (block $done
      (loop $group
        (br_if $done (i32.ge_u (local.get $q) (local.get $qend)))
        ;; d = dst + ((q / R)·kc·R + q % R)·4
        (local.set $d (i32.add (local.get $dst)
          (i32.shl (i32.add (i32.mul (i32.mul (i32.div_u (local.get $q) (local.get $R)) (local.get $kc)) (local.get $R))
                            (i32.rem_u (local.get $q) (local.get $R)))
                   (i32.const 2))))
        (if (i32.and (i32.le_u (i32.add (local.get $q) (i32.const 4)) (local.get $rows))
                     (i32.eq (local.get $ps) (i32.const 1)))
          (then
            ;; four rows, each contiguous along k: transpose 4×4 blocks
            (local.set $s0 (i32.add (local.get $src)
              (i32.shl (i32.add (i32.mul (local.get $q) (local.get $rs)) (local.get $k0)) (i32.const 2))))
            (local.set $sstep (i32.shl (local.get $rs) (i32.const 2)))
            (local.set $s1 (i32.add (local.get $s0) (local.get $sstep)))
            (local.set $s2 (i32.add (local.get $s1) (local.get $sstep)))
            (local.set $s3 (i32.add (local.get $s2) (local.get $sstep)))
            (local.set $p (i32.const 0))
            (block $tdone
              (loop $tloop
                (br_if $tdone (i32.ge_u (local.get $p) (local.get $kc4)))
                (local.set $v0 (v128.load (local.get $s0)))
                (local.set $v1 (v128.load (local.get $s1)))
                (local.set $v2 (v128.load (local.get $s2)))
                (local.set $v3 (v128.load (local.get $s3)))
                ;; t0 = [v0.0 v1.0 v0.1 v1.1], t1 = [v2.0 v3.0 v2.1 v3.1], t2/t3 likewise for lanes 2, 3
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
                (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
                (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
                (v128.store (local.get $d)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
                (local.set $d (i32.add (local.get $d) (local.get $dstep)))
                (v128.store (local.get $d)
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
                (local.set $d (i32.add (local.get $d) (local.get $dstep)))
                (v128.store (local.get $d)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3)))
                (local.set $d (i32.add (local.get $d) (local.get $dstep)))
                (v128.store (local.get $d)
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3)))
                (local.set $d (i32.add (local.get $d) (local.get $dstep)))
                (local.set $s0 (i32.add (local.get $s0) (i32.const 16)))
                (local.set $s1 (i32.add (local.get $s1) (i32.const 16)))
                (local.set $s2 (i32.add (local.get $s2) (i32.const 16)))
                (local.set $s3 (i32.add (local.get $s3) (i32.const 16)))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (br $tloop)))
            ;; k tail (kc mod 4 columns)
            (block $sdone
              (loop $sloop
                (br_if $sdone (i32.ge_u (local.get $p) (local.get $kc)))
                (f32.store (local.get $d) (f32.load (local.get $s0)))
                (f32.store offset=4 (local.get $d) (f32.load (local.get $s1)))
                (f32.store offset=8 (local.get $d) (f32.load (local.get $s2)))
                (f32.store offset=12 (local.get $d) (f32.load (local.get $s3)))
                (local.set $d (i32.add (local.get $d) (local.get $dstep)))
                (local.set $s0 (i32.add (local.get $s0) (i32.const 4)))
                (local.set $s1 (i32.add (local.get $s1) (i32.const 4)))
                (local.set $s2 (i32.add (local.get $s2) (i32.const 4)))
                (local.set $s3 (i32.add (local.get $s3) (i32.const 4)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $sloop))))
          (else
            (if (i32.and (i32.le_u (i32.add (local.get $q) (i32.const 4)) (local.get $rows))
                         (i32.eq (local.get $rs) (i32.const 1)))
              (then
                ;; four rows adjacent in memory at every p: one vector per p
                (local.set $s0 (i32.add (local.get $src)
                  (i32.shl (i32.add (local.get $q) (i32.mul (local.get $k0) (local.get $ps))) (i32.const 2))))
                (local.set $sstep (i32.shl (local.get $ps) (i32.const 2)))
                (local.set $p (i32.const 0))
                (block $vdone
                  (loop $vloop
                    (br_if $vdone (i32.ge_u (local.get $p) (local.get $kc)))
                    (v128.store (local.get $d) (v128.load (local.get $s0)))
                    (local.set $d (i32.add (local.get $d) (local.get $dstep)))
                    (local.set $s0 (i32.add (local.get $s0) (local.get $sstep)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $vloop))))
              (else
                ;; general strides or the ragged last group: element by element, zeros past the end
                (local.set $r (i32.const 0))
                (loop $rloop
                  (local.set $row (i32.add (local.get $q) (local.get $r)))
                  (local.set $s0 (i32.add (local.get $d) (i32.shl (local.get $r) (i32.const 2))))
                  (local.set $p (i32.const 0))
                  (if (i32.lt_u (local.get $row) (local.get $rows))
                    (then
                      (local.set $s1 (i32.add (local.get $src)
                        (i32.shl (i32.add (i32.mul (local.get $row) (local.get $rs)) (i32.mul (local.get $k0) (local.get $ps)))
                                 (i32.const 2))))
                      (local.set $sstep (i32.shl (local.get $ps) (i32.const 2)))
                      (block $edone
                        (loop $eloop
                          (br_if $edone (i32.ge_u (local.get $p) (local.get $kc)))
                          (f32.store (local.get $s0) (f32.load (local.get $s1)))
                          (local.set $s0 (i32.add (local.get $s0) (local.get $dstep)))
                          (local.set $s1 (i32.add (local.get $s1) (local.get $sstep)))
                          (local.set $p (i32.add (local.get $p) (i32.const 1)))
                          (br $eloop))))
                    (else
                      (block $zdone
                        (loop $zloop
                          (br_if $zdone (i32.ge_u (local.get $p) (local.get $kc)))
                          (f32.store (local.get $s0) (f32.const 0))
                          (local.set $s0 (i32.add (local.get $s0) (local.get $dstep)))
                          (local.set $p (i32.add (local.get $p) (i32.const 1)))
                          (br $zloop)))))
                  (local.set $r (i32.add (local.get $r) (i32.const 1)))
                  (br_if $rloop (i32.lt_u (local.get $r) (i32.const 4))))))))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $group))))

  ;; 4×8 micro-kernel: the 4×8 tile at c (row pitch ldc bytes) gets Σₚ Apanel[p]·Bpanel[p]ᵀ,
  ;; stored when first (the first k block) and added otherwise. Only rows × cols of the tile
  ;; are written (edge tiles go through the 128-byte scratch tile at address sc). kc ≥ 1.
  (func $kernel (param $pa i32) (param $pb i32) (param $kc i32) (param $c i32) (param $ldc i32)
                (param $rows i32) (param $cols i32) (param $first i32) (param $sc i32)
    (local $end i32) (local $a v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $r i32) (local $j i32) (local $o i32) (local $s i32)
    (local.set $end (i32.add (local.get $pa) (i32.shl (local.get $kc) (i32.const 4))))
    (loop $kloop
      (local.set $b0 (v128.load (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $a (v128.load32_splat (local.get $pa)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $a (v128.load32_splat offset=4 (local.get $pa)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $a (v128.load32_splat offset=8 (local.get $pa)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $a (v128.load32_splat offset=12 (local.get $pa)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $a) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $a) (local.get $b1))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
      (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
      (br_if $kloop (i32.lt_u (local.get $pa) (local.get $end))))
    (if (i32.and (i32.eq (local.get $rows) (i32.const 4)) (i32.eq (local.get $cols) (i32.const 8)))
      (then
        (if (local.get $first)
          (then
            (v128.store (local.get $c) (local.get $c00))
            (v128.store offset=16 (local.get $c) (local.get $c01))
            (local.set $c (i32.add (local.get $c) (local.get $ldc)))
            (v128.store (local.get $c) (local.get $c10))
            (v128.store offset=16 (local.get $c) (local.get $c11))
            (local.set $c (i32.add (local.get $c) (local.get $ldc)))
            (v128.store (local.get $c) (local.get $c20))
            (v128.store offset=16 (local.get $c) (local.get $c21))
            (local.set $c (i32.add (local.get $c) (local.get $ldc)))
            (v128.store (local.get $c) (local.get $c30))
            (v128.store offset=16 (local.get $c) (local.get $c31)))
          (else
            (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c00)))
            (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
            (local.set $c (i32.add (local.get $c) (local.get $ldc)))
            (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c10)))
            (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c11)))
            (local.set $c (i32.add (local.get $c) (local.get $ldc)))
            (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c20)))
            (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c21)))
            (local.set $c (i32.add (local.get $c) (local.get $ldc)))
            (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c30)))
            (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c31))))))
      (else
        ;; edge tile: spill the accumulators to the scratch tile, then move rows × cols of it
        (v128.store (local.get $sc) (local.get $c00))
        (v128.store offset=16 (local.get $sc) (local.get $c01))
        (v128.store offset=32 (local.get $sc) (local.get $c10))
        (v128.store offset=48 (local.get $sc) (local.get $c11))
        (v128.store offset=64 (local.get $sc) (local.get $c20))
        (v128.store offset=80 (local.get $sc) (local.get $c21))
        (v128.store offset=96 (local.get $sc) (local.get $c30))
        (v128.store offset=112 (local.get $sc) (local.get $c31))
        (local.set $r (i32.const 0))
        (loop $rloop
          (local.set $j (i32.const 0))
          (loop $jloop
            (local.set $o (i32.add (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $ldc)))
                                   (i32.shl (local.get $j) (i32.const 2))))
            (local.set $s (i32.add (local.get $sc) (i32.shl (i32.add (i32.shl (local.get $r) (i32.const 3)) (local.get $j)) (i32.const 2))))
            (if (local.get $first)
              (then (f32.store (local.get $o) (f32.load (local.get $s))))
              (else (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (local.get $s))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $jloop (i32.lt_u (local.get $j) (local.get $cols))))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $rloop (i32.lt_u (local.get $r) (local.get $rows)))))))

  ;; C = op(A)·op(B) with m, n, k ≥ 1 (addresses in bytes, strides and ldc in floats; see the header).
  ;; pa holds ceil(min(m, mcMax)/4)·4·min(k, kcMax) floats, pb ceil(n/8)·8·min(k, kcMax) floats.
  ;; $pre 1: A lies packed at pa already, every block (k block k0, m block i0) at floats
  ;; k0·ceil(m/4)·4 + i0·kc as $pack leaves it; 2: B likewise at pb, k block k0 at k0·ceil(n/8)·8
  ;; (a thread of the pool packs the operand its chunks share once per product).
  (func (export "gemm")
    (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
    (param $ars i32) (param $aps i32) (param $brs i32) (param $bps i32)
    (param $pa i32) (param $pb i32) (param $kcMax i32) (param $mcMax i32) (param $ldcf i32) (param $sc i32) (param $pre i32)
    (local $k0 i32) (local $kc i32) (local $i0 i32) (local $mc i32) (local $j0 i32) (local $i i32)
    (local $ldc i32) (local $first i32) (local $cols i32) (local $bpanel i32) (local $crow i32) (local $ap i32) (local $bp i32)
    (local.set $ldc (i32.shl (local.get $ldcf) (i32.const 2)))
    (local.set $k0 (i32.const 0))
    (loop $kblock
      (local.set $kc (i32.sub (local.get $k) (local.get $k0)))
      (if (i32.gt_u (local.get $kc) (local.get $kcMax)) (then (local.set $kc (local.get $kcMax))))
      (local.set $first (i32.eqz (local.get $k0)))
      (local.set $bp (local.get $pb))
      (if (i32.and (local.get $pre) (i32.const 2))
        (then (local.set $bp (i32.add (local.get $pb) (i32.shl (i32.mul (local.get $k0) (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8))) (i32.const 2)))))
        (else (call $pack (local.get $b) (local.get $n) (local.get $k0) (local.get $kc)
                          (local.get $brs) (local.get $bps) (local.get $pb) (i32.const 8))))
      (local.set $i0 (i32.const 0))
      (loop $mblock
        (local.set $mc (i32.sub (local.get $m) (local.get $i0)))
        (if (i32.gt_u (local.get $mc) (local.get $mcMax)) (then (local.set $mc (local.get $mcMax))))
        (local.set $ap (local.get $pa))
        (if (i32.and (local.get $pre) (i32.const 1))
          (then (local.set $ap (i32.add (local.get $pa) (i32.shl (i32.add (i32.mul (local.get $k0) (i32.and (i32.add (local.get $m) (i32.const 3)) (i32.const -4)))
                                                                           (i32.mul (local.get $i0) (local.get $kc))) (i32.const 2)))))
          (else (call $pack (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i0) (local.get $ars)) (i32.const 2)))
                            (local.get $mc) (local.get $k0) (local.get $kc)
                            (local.get $ars) (local.get $aps) (local.get $pa) (i32.const 4))))
        (local.set $j0 (i32.const 0))
        (loop $jpanel
          (local.set $cols (i32.sub (local.get $n) (local.get $j0)))
          (if (i32.gt_u (local.get $cols) (i32.const 8)) (then (local.set $cols (i32.const 8))))
          (local.set $bpanel (i32.add (local.get $bp) (i32.shl (i32.mul (local.get $j0) (local.get $kc)) (i32.const 2))))
          (local.set $i (i32.const 0))
          (loop $ipanel
            (local.set $crow (i32.sub (local.get $mc) (local.get $i)))
            (if (i32.gt_u (local.get $crow) (i32.const 4)) (then (local.set $crow (i32.const 4))))
            (call $kernel
              (i32.add (local.get $ap) (i32.shl (i32.mul (local.get $i) (local.get $kc)) (i32.const 2)))
              (local.get $bpanel) (local.get $kc)
              (i32.add (local.get $c)
                (i32.shl (i32.add (i32.mul (i32.add (local.get $i0) (local.get $i)) (local.get $ldcf)) (local.get $j0))
                         (i32.const 2)))
              (local.get $ldc) (local.get $crow) (local.get $cols) (local.get $first) (local.get $sc))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br_if $ipanel (i32.lt_u (local.get $i) (local.get $mc))))
          (local.set $j0 (i32.add (local.get $j0) (i32.const 8)))
          (br_if $jpanel (i32.lt_u (local.get $j0) (local.get $n))))
        (local.set $i0 (i32.add (local.get $i0) (local.get $mcMax)))
        (br_if $mblock (i32.lt_u (local.get $i0) (local.get $m))))
      (local.set $k0 (i32.add (local.get $k0) (local.get $kcMax)))
      (br_if $kblock (i32.lt_u (local.get $k0) (local.get $k)))))
  ;; C[m×n] += bias on every row, in place (matmul's bias): f32 adds, four at a time and the
  ;; ragged end one by one: the loop's fround(c + b) (a float32 sum rounded once either way)
  (func (export "addBias") (param $c i32) (param $bias i32) (param $m i32) (param $n i32)
    (local $i i32) (local $j i32) (local $n4 i32) (local $p i32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $p (local.get $c))
    (local.set $i (i32.const 0))
    (block $idone (loop $il
      (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
      (local.set $j (i32.const 0))
      (block $vdone (loop $vl
        (br_if $vdone (i32.ge_u (local.get $j) (local.get $n4)))
        (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p)) (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $vl)))
      (block $sdone (loop $sl
        (br_if $sdone (i32.ge_u (local.get $j) (local.get $n)))
        (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $sl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $il))))

  ;; ---- element-wise maps on float32 arrays, computed in float64 -----------------------------
  ;;
  ;; Two floats at a time, promoted to one f64x2, with the same float64 operations in the same
  ;; order as kernels.ts's JavaScript loop, so the results are bit-identical to it. Written inline
  ;; (no helper calls: V8 does not inline calls between wasm functions). The caller places the
  ;; operands 8-byte aligned with room for n rounded up to 2 (a lane past n computes on whatever is
  ;; there and is never read back).

  ;; out = α·x + β·y (SGD's step p − lr·g, and every axpby)
  (func (export "axpby") (param $x i32) (param $y i32) (param $out i32) (param $n i32) (param $alpha f64) (param $beta f64)
    (local $end i32) (local $al v128) (local $be v128)
    (local.set $al (f64x2.splat (local.get $alpha)))
    (local.set $be (f64x2.splat (local.get $beta)))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (v128.store64_lane 0 (local.get $out)
          (f32x4.demote_f64x2_zero
            (f64x2.add (f64x2.mul (local.get $al) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $x))))
                       (f64x2.mul (local.get $be) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $y)))))))
        (local.set $x (i32.add (local.get $x) (i32.const 8)))
        (local.set $y (i32.add (local.get $y) (i32.const 8)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $next))))

  ;; Adam's and RMSprop's step in one pass: core's updateChain (every state given) on the CPU's
  ;; primitives, the same bits, four floats at a time (room for n rounded up to 4 at each array).
  ;; Each compound step (a·x + b·y) is computed in float64 and rounded to float32, as a primitive
  ;; stores it; g², m², s − m², √v and the quotient are single operations on float32 values, where
  ;; f32x4 gives the float64 result rounded (53 ≥ 2·24 + 2 bits: double rounding is innocuous).
  ;; Mode bit 1 g += w·p (L2), bit 2 p = p·w + 0 (AdamW's decay); m = β₁·m + c₁·g (bit 8: no m, not
  ;; read or stored); v = β₂·v + c₂·g²; v −= m² (bit 16: centered RMSprop, m its mean gradient);
  ;; d = √v·s + ε; q = m / d, or g / d (bit 4: RMSprop); q = μ·b + q into b (bit 32: momentum);
  ;; p += (−lr)·q. Adam: bits 1, 2; RMSprop: 4 and 8 or 16, 1, 32 (its v the square average, s = 1).
  (func (export "adam") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $b i32)
        (param $op i32) (param $om i32) (param $ov i32) (param $ob i32) (param $n i32)
        (param $b1 f64) (param $c1 f64) (param $b2 f64) (param $c2 f64) (param $nlr f64) (param $s f64) (param $eps f64) (param $w f64) (param $mu f64) (param $mode i32)
    (local $end i32) (local $P v128) (local $G v128) (local $M v128) (local $V v128) (local $Q v128) (local $B v128)
    (local $B1 v128) (local $C1 v128) (local $B2 v128) (local $C2 v128) (local $L v128) (local $S v128) (local $E v128) (local $W v128) (local $MU v128)
    (local.set $B1 (f64x2.splat (local.get $b1))) (local.set $C1 (f64x2.splat (local.get $c1)))
    (local.set $B2 (f64x2.splat (local.get $b2))) (local.set $C2 (f64x2.splat (local.get $c2)))
    (local.set $L (f64x2.splat (local.get $nlr))) (local.set $S (f64x2.splat (local.get $s)))
    (local.set $E (f64x2.splat (local.get $eps))) (local.set $W (f64x2.splat (local.get $w)))
    (local.set $MU (f64x2.splat (local.get $mu)))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    ;; each compound value: an f64x2 for floats 0-1 and one for floats 2-3 (moved low by a shuffle),
    ;; each demoted, the two joined by the shuffle 0…7 16…23
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $P (v128.load (local.get $p)))
        (local.set $G (v128.load (local.get $g)))
        (if (i32.and (local.get $mode) (i32.const 1))
          (then (local.set $G
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (f64x2.add (f64x2.promote_low_f32x4 (local.get $G)) (f64x2.mul (local.get $W) (f64x2.promote_low_f32x4 (local.get $P)))))
              (f32x4.demote_f64x2_zero (f64x2.add (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $G) (local.get $G))) (f64x2.mul (local.get $W) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $P) (local.get $P))))))))))
        (if (i32.and (local.get $mode) (i32.const 2))
          (then (local.set $P
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (local.get $P)) (local.get $W)) (f64x2.splat (f64.const 0))))
              (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $P) (local.get $P))) (local.get $W)) (f64x2.splat (f64.const 0))))))))
        (if (i32.eqz (i32.and (local.get $mode) (i32.const 8)))
          (then
            (local.set $M (v128.load (local.get $m)))
            (local.set $M
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (local.get $B1) (f64x2.promote_low_f32x4 (local.get $M))) (f64x2.mul (local.get $C1) (f64x2.promote_low_f32x4 (local.get $G)))))
                (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (local.get $B1) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $M) (local.get $M)))) (f64x2.mul (local.get $C1) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $G) (local.get $G))))))))
            (v128.store (local.get $om) (local.get $M))))
        ;; v, then v − m² (centered), √v, d and the quotient q in $V
        (local.set $V (v128.load (local.get $v)))
        (local.set $Q (f32x4.mul (local.get $G) (local.get $G)))
        (local.set $V
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (local.get $B2) (f64x2.promote_low_f32x4 (local.get $V))) (f64x2.mul (local.get $C2) (f64x2.promote_low_f32x4 (local.get $Q)))))
            (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (local.get $B2) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $V) (local.get $V)))) (f64x2.mul (local.get $C2) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $Q) (local.get $Q))))))))
        (v128.store (local.get $ov) (local.get $V))
        (if (i32.and (local.get $mode) (i32.const 16))
          (then (local.set $V (f32x4.sub (local.get $V) (f32x4.mul (local.get $M) (local.get $M))))))
        (local.set $V (f32x4.sqrt (local.get $V)))
        (local.set $V
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (local.get $V)) (local.get $S)) (local.get $E)))
            (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $V) (local.get $V))) (local.get $S)) (local.get $E)))))
        (local.set $V (f32x4.div (select (local.get $G) (local.get $M) (i32.and (local.get $mode) (i32.const 4))) (local.get $V)))
        (if (i32.and (local.get $mode) (i32.const 32))
          (then
            (local.set $B (v128.load (local.get $b)))
            (local.set $V
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (local.get $MU) (f64x2.promote_low_f32x4 (local.get $B))) (f64x2.promote_low_f32x4 (local.get $V))))
                (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (local.get $MU) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $B) (local.get $B)))) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $V) (local.get $V)))))))
            (v128.store (local.get $ob) (local.get $V))))
        (v128.store (local.get $op)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.add (f64x2.promote_low_f32x4 (local.get $P)) (f64x2.mul (local.get $L) (f64x2.promote_low_f32x4 (local.get $V)))))
            (f32x4.demote_f64x2_zero (f64x2.add (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $P) (local.get $P))) (f64x2.mul (local.get $L) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $V) (local.get $V))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (local.set $v (i32.add (local.get $v) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $op (i32.add (local.get $op) (i32.const 16)))
        (local.set $om (i32.add (local.get $om) (i32.const 16)))
        (local.set $ov (i32.add (local.get $ov) (i32.const 16)))
        (local.set $ob (i32.add (local.get $ob) (i32.const 16)))
        (br $next))))

  ;; ---- the exponential, and the sigmoid on it ---------------------------------------------------
  ;;
  ;; $exp is V8's Math.exp (fdlibm's __ieee754_exp with V8's two changes: exp(1) = e, and 2^k applied
  ;; by a multiplication), the same bits for every input (a test compares them). x = k·ln2 + r,
  ;; |r| ≤ ln2/2, e^r = 1 + 2r/(2 − c) with c = r − r²·P(r²).
  (func $exp (export "exp") (param $x f64) (result f64)
    (local $hx i32) (local $xsb i32) (local $k i32) (local $hi f64) (local $lo f64) (local $t f64) (local $c f64) (local $y f64)
    (local.set $hx (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $x)) (i64.const 32))))
    (local.set $xsb (i32.shr_u (local.get $hx) (i32.const 31)))
    (local.set $hx (i32.and (local.get $hx) (i32.const 0x7fffffff)))
    (if (i32.ge_u (local.get $hx) (i32.const 0x40862e42))
      (then
        ;; |x| ≥ 709.78: NaN → NaN, ±∞ → ∞ or 0, overflow, underflow
        (if (i32.ge_u (local.get $hx) (i32.const 0x7ff00000))
          (then
            (if (f64.ne (local.get $x) (local.get $x)) (then (return (f64.add (local.get $x) (local.get $x)))))
            (if (local.get $xsb) (then (return (f64.const 0))))
            (return (local.get $x))))
        (if (f64.gt (local.get $x) (f64.const 0x1.62e42fefa39efp+9)) (then (return (f64.const inf))))
        (if (f64.lt (local.get $x) (f64.const -0x1.74910d52d3051p+9)) (then (return (f64.const 0))))))
    (if (i32.gt_u (local.get $hx) (i32.const 0x3fd62e42))
      (then
        ;; |x| > ln2/2: reduce
        (if (i32.lt_u (local.get $hx) (i32.const 0x3ff0a2b2))
          (then
            (if (f64.eq (local.get $x) (f64.const 1)) (then (return (f64.const 0x1.5bf0a8b145769p+1))))
            (if (local.get $xsb)
              (then
                (local.set $hi (f64.sub (local.get $x) (f64.const -0x1.62e42feep-1)))
                (local.set $lo (f64.const -0x1.a39ef35793c76p-33))
                (local.set $k (i32.const -1)))
              (else
                (local.set $hi (f64.sub (local.get $x) (f64.const 0x1.62e42feep-1)))
                (local.set $lo (f64.const 0x1.a39ef35793c76p-33))
                (local.set $k (i32.const 1)))))
          (else
            (local.set $k (i32.trunc_f64_s (f64.add (f64.mul (f64.const 0x1.71547652b82fep+0) (local.get $x))
                                                    (select (f64.const -0.5) (f64.const 0.5) (local.get $xsb)))))
            (local.set $t (f64.convert_i32_s (local.get $k)))
            (local.set $hi (f64.sub (local.get $x) (f64.mul (local.get $t) (f64.const 0x1.62e42feep-1))))
            (local.set $lo (f64.mul (local.get $t) (f64.const 0x1.a39ef35793c76p-33)))))
        (local.set $x (f64.sub (local.get $hi) (local.get $lo))))
      (else
        ;; |x| < 2^−28: 1 + x
        (if (i32.lt_u (local.get $hx) (i32.const 0x3e300000)) (then (return (f64.add (f64.const 1) (local.get $x)))))))
    (local.set $t (f64.mul (local.get $x) (local.get $x)))
    (local.set $c (f64.sub (local.get $x) (f64.mul (local.get $t)
      (f64.add (f64.const 0x1.555555555553ep-3) (f64.mul (local.get $t)
        (f64.add (f64.const -0x1.6c16c16bebd93p-9) (f64.mul (local.get $t)
          (f64.add (f64.const 0x1.1566aaf25de2cp-14) (f64.mul (local.get $t)
            (f64.add (f64.const -0x1.bbd41c5d26bf1p-20) (f64.mul (local.get $t) (f64.const 0x1.6376972bea4d0p-25))))))))))))
    (if (i32.eqz (local.get $k))
      (then (return (f64.sub (f64.const 1) (f64.sub (f64.div (f64.mul (local.get $x) (local.get $c)) (f64.sub (local.get $c) (f64.const 2))) (local.get $x))))))
    (local.set $y (f64.sub (f64.const 1)
      (f64.sub (f64.sub (local.get $lo) (f64.div (f64.mul (local.get $x) (local.get $c)) (f64.sub (f64.const 2) (local.get $c)))) (local.get $hi))))
    (if (i32.ge_s (local.get $k) (i32.const -1021))
      (then
        (if (i32.eq (local.get $k) (i32.const 1024)) (then (return (f64.mul (f64.mul (local.get $y) (f64.const 2)) (f64.const 0x1p1023)))))
        (return (f64.mul (local.get $y)
          (f64.reinterpret_i64 (i64.shl (i64.extend_i32_u (i32.add (local.get $k) (i32.const 0x3ff))) (i64.const 52)))))))
    (f64.mul (f64.mul (local.get $y)
               (f64.reinterpret_i64 (i64.shl (i64.extend_i32_u (i32.add (local.get $k) (i32.const 2023))) (i64.const 52))))
             (f64.const 0x1p-1000)))

  ;; out = σ(x) = 1/(1 + e^−x) for x ≥ 0, e^x/(1 + e^x) otherwise (NaN: NaN): kernels.ts's loop.
  ;; Two floats at a time: when both have 2^−28 < |x| < 707 (no special case of $exp), $exp(−|x|)
  ;; inline on f64x2 lanes, its two forms (k = 0 and k ≠ 0) both computed and one kept per lane,
  ;; each with $exp's operations in $exp's order; otherwise $exp lane by lane.
  (func (export "sigmoid") (param $px i32) (param $out i32) (param $n i32)
    (local $end i32) (local $v v128) (local $x v128) (local $small v128) (local $k v128) (local $t v128)
    (local $hi v128) (local $lo v128) (local $xx v128) (local $c v128) (local $e v128) (local $s f64) (local $ee f64)
    (local $lane i32)
    (local.set $end (i32.add (local.get $px) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $px) (local.get $end)))
        (local.set $v (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $px))))
        (local.set $x (f64x2.neg (f64x2.abs (local.get $v))))
        (if (i64x2.all_true (v128.and (f64x2.gt (local.get $x) (f64x2.splat (f64.const -707)))
                                      (f64x2.lt (local.get $x) (f64x2.splat (f64.const -0x1p-28)))))
          (then
            ;; |x| ≤ 0.5·ln2 by $exp's test on the high word: k = 0, no reduction
            (local.set $small (i64x2.le_s (v128.and (local.get $x) (v128.const i64x2 0x7fffffff00000000 0x7fffffff00000000))
                                          (v128.const i64x2 0x3fd62e42ffffffff 0x3fd62e42ffffffff)))
            (local.set $k (v128.andnot
              (i32x4.trunc_sat_f64x2_s_zero (f64x2.add (f64x2.mul (f64x2.splat (f64.const 0x1.71547652b82fep+0)) (local.get $x))
                                                       (f64x2.splat (f64.const -0.5))))
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 20 21 22 23 (local.get $small) (v128.const i32x4 0 0 0 0))))
            (local.set $t (f64x2.convert_low_i32x4_s (local.get $k)))
            (local.set $hi (f64x2.sub (local.get $x) (f64x2.mul (local.get $t) (f64x2.splat (f64.const 0x1.62e42feep-1)))))
            (local.set $lo (f64x2.mul (local.get $t) (f64x2.splat (f64.const 0x1.a39ef35793c76p-33))))
            (local.set $x (f64x2.sub (local.get $hi) (local.get $lo)))
            (local.set $xx (f64x2.mul (local.get $x) (local.get $x)))
            (local.set $c (f64x2.sub (local.get $x) (f64x2.mul (local.get $xx)
              (f64x2.add (f64x2.splat (f64.const 0x1.555555555553ep-3)) (f64x2.mul (local.get $xx)
                (f64x2.add (f64x2.splat (f64.const -0x1.6c16c16bebd93p-9)) (f64x2.mul (local.get $xx)
                  (f64x2.add (f64x2.splat (f64.const 0x1.1566aaf25de2cp-14)) (f64x2.mul (local.get $xx)
                    (f64x2.add (f64x2.splat (f64.const -0x1.bbd41c5d26bf1p-20)) (f64x2.mul (local.get $xx) (f64x2.splat (f64.const 0x1.6376972bea4d0p-25)))))))))))))
            ;; k = 0: 1 − ((x·c)/(c − 2) − x); else (1 − ((lo − (x·c)/(2 − c)) − hi))·2^k
            (local.set $e (v128.bitselect
              (f64x2.sub (f64x2.splat (f64.const 1))
                (f64x2.sub (f64x2.div (f64x2.mul (local.get $x) (local.get $c)) (f64x2.sub (local.get $c) (f64x2.splat (f64.const 2)))) (local.get $x)))
              (f64x2.mul
                (f64x2.sub (f64x2.splat (f64.const 1))
                  (f64x2.sub (f64x2.sub (local.get $lo) (f64x2.div (f64x2.mul (local.get $x) (local.get $c)) (f64x2.sub (f64x2.splat (f64.const 2)) (local.get $c))))
                             (local.get $hi)))
                (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (local.get $k)) (v128.const i64x2 0x3ff 0x3ff)) (i32.const 52)))
              (local.get $small)))
            ;; σ: x ≥ 0: 1/(1 + e), else e/(1 + e)
            (v128.store64_lane 0 (local.get $out) (f32x4.demote_f64x2_zero
              (f64x2.div (v128.bitselect (f64x2.splat (f64.const 1)) (local.get $e) (f64x2.ge (local.get $v) (f64x2.splat (f64.const 0))))
                         (f64x2.add (f64x2.splat (f64.const 1)) (local.get $e))))))
          (else
            ;; lane by lane through $exp (specials, saturated or tiny inputs); the lane past n is not stored
            (local.set $lane (i32.const 0))
            (loop $lanes
              (if (i32.lt_u (i32.add (local.get $px) (i32.shl (local.get $lane) (i32.const 2))) (local.get $end))
                (then
                  (local.set $s (f64.promote_f32 (f32.load (i32.add (local.get $px) (i32.shl (local.get $lane) (i32.const 2))))))
                  (if (f64.ge (local.get $s) (f64.const 0))
                    (then (local.set $s (f64.div (f64.const 1) (f64.add (f64.const 1) (call $exp (f64.neg (local.get $s)))))))
                    (else
                      (local.set $ee (call $exp (local.get $s)))
                      (local.set $s (f64.div (local.get $ee) (f64.add (f64.const 1) (local.get $ee))))))
                  (f32.store (i32.add (local.get $out) (i32.shl (local.get $lane) (i32.const 2))) (f32.demote_f64 (local.get $s)))))
              (local.set $lane (i32.add (local.get $lane) (i32.const 1)))
              (br_if $lanes (i32.lt_u (local.get $lane) (i32.const 2))))))
        (local.set $px (i32.add (local.get $px) (i32.const 8)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $next))))

  ;; ---- BCELoss: its terms on a logarithm for float32 results, and its gradient ----------------
  ;;
  ;; $log: kernels.ts's log32 step for step on two doubles (f64x2), each a float32 value or 1 minus
  ;; one (never a subnormal double), floored at fl: fdlibm's log without its branches, as musl's.
  ;; x = 2^k·m with √2/2 ≤ m < √2, f = m − 1, s = f/(2 + f), hfsq = f²/2,
  ;; log x = s·(hfsq + R(s²)) + k·ln2lo − hfsq + f + k·ln2hi (error < 1 ulp); then 0 → −∞,
  ;; x < 0 and NaN → NaN, +∞ → +∞. A function of its own: inlined in bce's loop (its constants
  ;; then re-made at each use), the loop ran 1.2–1.4× slower.
  (func $log (param $x v128) (param $fl v128) (result v128)
    (local $hx v128) (local $f v128) (local $s v128) (local $z v128) (local $w v128) (local $h v128) (local $r v128)
    ;; hx: x's bits with 0x3ff00000 − 0x3fe6a09e added to the high word, whose exponent field is then k + 1023
    (local.set $hx (i64x2.add (local.get $x) (v128.const i64x2 0x95f6200000000 0x95f6200000000)))
    (local.set $f (f64x2.sub (i64x2.add (v128.and (local.get $hx) (v128.const i64x2 0xfffffffffffff 0xfffffffffffff))
                                        (v128.const i64x2 0x3fe6a09e00000000 0x3fe6a09e00000000))
                             (v128.const f64x2 1 1)))
    (local.set $h (f64x2.mul (f64x2.mul (v128.const f64x2 0.5 0.5) (local.get $f)) (local.get $f)))
    (local.set $s (f64x2.div (local.get $f) (f64x2.add (v128.const f64x2 2 2) (local.get $f))))
    (local.set $z (f64x2.mul (local.get $s) (local.get $s)))
    (local.set $w (f64x2.mul (local.get $z) (local.get $z)))
    ;; R = z·(Lg1 + w·(Lg3 + w·(Lg5 + w·Lg7))) + w·(Lg2 + w·(Lg4 + w·Lg6))
    (local.set $r (f64x2.add
      (f64x2.mul (local.get $z) (f64x2.add (v128.const f64x2 0x1.5555555555593p-1 0x1.5555555555593p-1) (f64x2.mul (local.get $w)
        (f64x2.add (v128.const f64x2 0x1.2492494229359p-2 0x1.2492494229359p-2) (f64x2.mul (local.get $w)
          (f64x2.add (v128.const f64x2 0x1.7466496cb03dep-3 0x1.7466496cb03dep-3) (f64x2.mul (local.get $w) (v128.const f64x2 0x1.2f112df3e5244p-3 0x1.2f112df3e5244p-3))))))))
      (f64x2.mul (local.get $w) (f64x2.add (v128.const f64x2 0x1.999999997fa04p-2 0x1.999999997fa04p-2) (f64x2.mul (local.get $w)
        (f64x2.add (v128.const f64x2 0x1.c71c51d8e78afp-3 0x1.c71c51d8e78afp-3) (f64x2.mul (local.get $w) (v128.const f64x2 0x1.39a09d078c69fp-3 0x1.39a09d078c69fp-3))))))))
    ;; k·ln2 in two parts: k from the exponent field
    (local.set $hx (f64x2.convert_low_i32x4_s (i32x4.sub
      (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 20 21 22 23 (i64x2.shr_u (local.get $hx) (i32.const 52)) (v128.const i64x2 0 0))
      (v128.const i32x4 1023 1023 0 0))))
    (local.set $r (f64x2.add (f64x2.add (f64x2.sub (f64x2.add
      (f64x2.mul (local.get $s) (f64x2.add (local.get $h) (local.get $r)))
      (f64x2.mul (local.get $hx) (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33)))
      (local.get $h)) (local.get $f))
      (f64x2.mul (local.get $hx) (v128.const f64x2 0x1.62e42feep-1 0x1.62e42feep-1))))
    ;; the specials (x ≤ 0, +∞, NaN): 0 → −∞, x < 0 and NaN → NaN, +∞ → +∞
    (if (v128.any_true (v128.not (v128.and (f64x2.gt (local.get $x) (v128.const i64x2 0 0)) (f64x2.lt (local.get $x) (v128.const f64x2 inf inf)))))
      (then
        (local.set $r (v128.bitselect (local.get $r) (v128.const f64x2 nan nan) (f64x2.ge (local.get $x) (v128.const i64x2 0 0))))
        (local.set $r (v128.bitselect (v128.const f64x2 -inf -inf) (local.get $r) (f64x2.eq (local.get $x) (v128.const i64x2 0 0))))
        (local.set $r (v128.bitselect (local.get $x) (local.get $r) (f64x2.eq (local.get $x) (v128.const f64x2 inf inf))))))
    ;; floored at F
    (v128.bitselect (local.get $fl) (local.get $r) (f64x2.lt (local.get $r) (local.get $fl))))

  ;; $log of one double, unfloored (for the test that holds it to kernels.ts's log32, bit for bit)
  (func (export "log") (param $x f64) (result f64)
    (f64x2.extract_lane 0 (call $log (f64x2.splat (local.get $x)) (v128.const f64x2 -inf -inf))))

  ;; out = y·(log ŷ − log(1 − ŷ)) + log(1 − ŷ), each log floored at F: kernels.ts's bceRange with
  ;; log32, two floats at a time; log ŷ is skipped when both lanes have y = 0 and ŷ ≥ 0 (the term
  ;; is then log(1 − ŷ)). The float past an odd n is written (the caller leaves room for it).
  (func (export "bce") (param $py i32) (param $pp i32) (param $out i32) (param $n i32) (param $F f64)
    (local $end i32) (local $y v128) (local $q v128) (local $a v128) (local $skip v128) (local $fl v128)
    (local.set $fl (f64x2.splat (local.get $F)))
    (local.set $end (i32.add (local.get $pp) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $pp) (local.get $end)))
        (local.set $q (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pp))))
        (local.set $y (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $py))))
        (local.set $skip (v128.and (f64x2.eq (local.get $y) (v128.const i64x2 0 0)) (f64x2.ge (local.get $q) (v128.const i64x2 0 0))))
        ;; a = max(log(1 − ŷ), F); unless both lanes have y = 0 and ŷ ≥ 0, y·(max(log ŷ, F) − a) + a where not
        (local.set $a (call $log (f64x2.sub (v128.const f64x2 1 1) (local.get $q)) (local.get $fl)))
        (if (i32.eqz (i64x2.all_true (local.get $skip)))
          (then
            (local.set $a (v128.bitselect (local.get $a)
              (f64x2.add (f64x2.mul (local.get $y) (f64x2.sub (call $log (local.get $q) (local.get $fl)) (local.get $a))) (local.get $a)) (local.get $skip)))))
        (v128.store64_lane 0 (local.get $out) (f32x4.demote_f64x2_zero (local.get $a)))
        (local.set $py (i32.add (local.get $py) (i32.const 8)))
        (local.set $pp (i32.add (local.get $pp) (i32.const 8)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $next))))

  ;; out = (c·ŷ − c·y) / max(ŷ(1 − ŷ), ε), the floor as `d < ε ? ε : d` (NaN stays NaN): kernels.ts's
  ;; bceGrad on float64 lanes (the float past an odd n is written)
  (func (export "bceGrad") (param $py i32) (param $pp i32) (param $out i32) (param $n i32) (param $c f64) (param $eps f64)
    (local $end i32) (local $q v128) (local $d v128) (local $cc v128) (local $e v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $cc (f64x2.splat (local.get $c)))
    (local.set $e (f64x2.splat (local.get $eps)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $q (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pp))))
        (local.set $d (f64x2.mul (local.get $q) (f64x2.sub (v128.const f64x2 1 1) (local.get $q))))
        (v128.store64_lane 0 (local.get $out) (f32x4.demote_f64x2_zero (f64x2.div
          (f64x2.sub (f64x2.mul (local.get $cc) (local.get $q)) (f64x2.mul (local.get $cc) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $py)))))
          (v128.bitselect (local.get $e) (local.get $d) (f64x2.lt (local.get $d) (local.get $e))))))
        (local.set $py (i32.add (local.get $py) (i32.const 8)))
        (local.set $pp (i32.add (local.get $pp) (i32.const 8)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $next))))

  ;; out = δ·(1 − s²): tanh's backward from its output s (float64 lanes)
  (func (export "tanhGrad") (param $ps i32) (param $pd i32) (param $out i32) (param $n i32)
    (local $end i32) (local $s v128) (local $d v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $s (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $ps))))
        (local.set $d (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pd))))
        (v128.store64_lane 0 (local.get $out) (f32x4.demote_f64x2_zero (f64x2.mul (local.get $d) (f64x2.sub (v128.const f64x2 1 1) (f64x2.mul (local.get $s) (local.get $s))))))
        (local.set $ps (i32.add (local.get $ps) (i32.const 8)))
        (local.set $pd (i32.add (local.get $pd) (i32.const 8)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $next))))

  ;; out = δ·s·(1 − s): sigmoid's backward from its output s (float64 lanes)
  (func (export "sigmoidGrad") (param $ps i32) (param $pd i32) (param $out i32) (param $n i32)
    (local $end i32) (local $s v128) (local $d v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $s (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $ps))))
        (local.set $d (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $pd))))
        (v128.store64_lane 0 (local.get $out) (f32x4.demote_f64x2_zero (f64x2.mul (f64x2.mul (local.get $d) (local.get $s)) (f64x2.sub (v128.const f64x2 1 1) (local.get $s)))))
        (local.set $ps (i32.add (local.get $ps) (i32.const 8)))
        (local.set $pd (i32.add (local.get $pd) (i32.const 8)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $next))))

  ;; out = x < 0 ? 0 : x, four floats at a time (NaN and −0 pass through, as in the loop); n rounded up to 4
  (func (export "relu") (param $px i32) (param $out i32) (param $n i32)
    (local $end i32) (local $x v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $x (v128.load (local.get $px)))
        (v128.store (local.get $out) (v128.bitselect (v128.const f32x4 0 0 0 0) (local.get $x) (f32x4.lt (local.get $x) (v128.const f32x4 0 0 0 0))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $next))))

  ;; out = s > 0 ? δ : 0 (ReLU's backward), four floats at a time; n rounded up to 4
  (func (export "reluGrad") (param $ps i32) (param $pd i32) (param $out i32) (param $n i32)
    (local $end i32) (local $s v128) (local $d v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $s (v128.load (local.get $ps)))
        (local.set $d (v128.load (local.get $pd)))
        (v128.store (local.get $out) (v128.bitselect (local.get $d) (v128.const f32x4 0 0 0 0) (f32x4.gt (local.get $s) (v128.const f32x4 0 0 0 0))))
        (local.set $ps (i32.add (local.get $ps) (i32.const 16)))
        (local.set $pd (i32.add (local.get $pd) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $next))))

  ;; Column sums in float64 of a rows×cols float32 matrix (a bias gradient: a Linear's over the
  ;; batch, a convolution's over positions): acc[j] = Σᵣ x[r·cols + j] summed in row order,
  ;; exactly kernels.ts's loop (one float64 accumulator per column), two columns per f64x2 lane
  ;; pair. The accumulators are `align2(cols)` float64 at $acc (8-byte aligned), zeroed here; the
  ;; caller reads the first cols. x has room for one float past its end (the odd column's idle lane reads it).
  (func (export "colsum") (param $x i32) (param $rows i32) (param $cols i32) (param $acc i32)
    (local $r i32) (local $j i32) (local $row i32) (local $a i32) (local $pitch i32) (local $pairs i32)
    (local.set $pairs (i32.shr_u (i32.add (local.get $cols) (i32.const 1)) (i32.const 1)))
    (local.set $pitch (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $j (i32.const 0))
    (block $zdone
      (loop $zero
        (br_if $zdone (i32.ge_u (local.get $j) (local.get $pairs)))
        (v128.store (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 4))) (v128.const f64x2 0 0))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $zero)))
    (local.set $row (local.get $x))
    (local.set $r (i32.const 0))
    (block $rdone
      (loop $rows
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $j (i32.const 0))
        (local.set $a (local.get $acc))
        (block $jdone
          (loop $pair
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $pairs)))
            (v128.store (local.get $a)
              (f64x2.add (v128.load (local.get $a))
                         (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3)))))))
            (local.set $a (i32.add (local.get $a) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $pair)))
        (local.set $row (i32.add (local.get $row) (local.get $pitch)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; ---- window kernels on channels-last float32 images [batch, H, W, C] (conv.ts's loops) --------

  ;; Max pool with a 2×2 window of stride 2, no padding, C a multiple of 4: out[b, oy, ox, c] =
  ;; max of the four cells, four channels at a time (f32x4.max: NaN wins, max(−0, +0) = +0, as
  ;; Math.max). $ipitch: bytes of one input row (inW·C·4); $cb: bytes of C floats.
  (func (export "maxpool2") (param $x i32) (param $out i32) (param $batch i32) (param $inH i32) (param $inW i32)
                            (param $C i32) (param $outH i32) (param $outW i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $c i32) (local $s i32) (local $row i32)
    (local $ipitch i32) (local $cb i32)
    (local.set $ipitch (i32.shl (i32.mul (local.get $inW) (local.get $C)) (i32.const 2)))
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $bdone (loop $bl
      (br_if $bdone (i32.ge_u (local.get $b) (local.get $batch)))
      (local.set $oy (i32.const 0))
      (block $ydone (loop $yl
        (br_if $ydone (i32.ge_u (local.get $oy) (local.get $outH)))
        ;; first cell of this output row: image b, input row 2·oy
        (local.set $row (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $b) (local.get $inH)) (i32.shl (local.get $oy) (i32.const 1))) (local.get $ipitch))))
        (local.set $ox (i32.const 0))
        (block $xdone (loop $xl
          (br_if $xdone (i32.ge_u (local.get $ox) (local.get $outW)))
          (local.set $s (i32.add (local.get $row) (i32.mul (i32.shl (local.get $ox) (i32.const 1)) (local.get $cb))))
          (local.set $c (i32.const 0))
          (block $cdone (loop $cl
            (br_if $cdone (i32.ge_u (local.get $c) (local.get $cb)))
            (v128.store (local.get $out)
              (f32x4.max (f32x4.max (v128.load (local.get $s)) (v128.load (i32.add (local.get $s) (local.get $cb))))
                         (f32x4.max (v128.load (i32.add (local.get $s) (local.get $ipitch)))
                                    (v128.load (i32.add (i32.add (local.get $s) (local.get $ipitch)) (local.get $cb))))))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $cl)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $xl)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $yl)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl))))

  ;; Its backward into out [batch, inH, inW, C] (zeroed here first): each δ goes to the first
  ;; arg-max of its window in row-major order, to the first cell when none equals the max (NaN);
  ;; written as 0 + δ, the loop's `out[at] += δ` onto zeros (windows of stride 2 do not overlap).
  (func (export "maxpool2Grad") (param $x i32) (param $d i32) (param $out i32) (param $batch i32) (param $inH i32) (param $inW i32)
                                (param $C i32) (param $outH i32) (param $outW i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $c i32) (local $s i32) (local $o i32) (local $row i32) (local $orow i32)
    (local $ipitch i32) (local $cb i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $best v128) (local $dv v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $taken v128)
    (local.set $ipitch (i32.shl (i32.mul (local.get $inW) (local.get $C)) (i32.const 2)))
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (memory.fill (local.get $out) (i32.const 0) (i32.mul (i32.mul (local.get $batch) (local.get $inH)) (local.get $ipitch)))
    (local.set $b (i32.const 0))
    (block $bdone (loop $bl
      (br_if $bdone (i32.ge_u (local.get $b) (local.get $batch)))
      (local.set $oy (i32.const 0))
      (block $ydone (loop $yl
        (br_if $ydone (i32.ge_u (local.get $oy) (local.get $outH)))
        (local.set $row (i32.mul (i32.add (i32.mul (local.get $b) (local.get $inH)) (i32.shl (local.get $oy) (i32.const 1))) (local.get $ipitch)))
        (local.set $ox (i32.const 0))
        (block $xdone (loop $xl
          (br_if $xdone (i32.ge_u (local.get $ox) (local.get $outW)))
          ;; byte offset of the window's first cell, in x and in out alike
          (local.set $o (i32.add (local.get $row) (i32.mul (i32.shl (local.get $ox) (i32.const 1)) (local.get $cb))))
          (local.set $c (i32.const 0))
          (block $cdone (loop $cl
            (br_if $cdone (i32.ge_u (local.get $c) (local.get $cb)))
            (local.set $s (i32.add (local.get $x) (local.get $o)))
            (local.set $v0 (v128.load (local.get $s)))
            (local.set $v1 (v128.load (i32.add (local.get $s) (local.get $cb))))
            (local.set $v2 (v128.load (i32.add (local.get $s) (local.get $ipitch))))
            (local.set $v3 (v128.load (i32.add (i32.add (local.get $s) (local.get $ipitch)) (local.get $cb))))
            (local.set $best (f32x4.max (f32x4.max (local.get $v0) (local.get $v1)) (f32x4.max (local.get $v2) (local.get $v3))))
            (local.set $dv (v128.load (local.get $d)))
            (local.set $m1 (v128.andnot (f32x4.eq (local.get $v1) (local.get $best)) (f32x4.eq (local.get $v0) (local.get $best))))
            (local.set $taken (v128.or (f32x4.eq (local.get $v0) (local.get $best)) (local.get $m1)))
            (local.set $m2 (v128.andnot (f32x4.eq (local.get $v2) (local.get $best)) (local.get $taken)))
            (local.set $taken (v128.or (local.get $taken) (local.get $m2)))
            (local.set $m3 (v128.andnot (f32x4.eq (local.get $v3) (local.get $best)) (local.get $taken)))
            (local.set $taken (v128.or (local.get $taken) (local.get $m3)))
            ;; the first cell: v0 is the max, or no cell is (NaN)
            (local.set $m0 (v128.or (f32x4.eq (local.get $v0) (local.get $best)) (v128.not (local.get $taken))))
            (local.set $s (i32.add (local.get $out) (local.get $o)))
            (v128.store (local.get $s) (f32x4.add (v128.const f32x4 0 0 0 0) (v128.and (local.get $dv) (local.get $m0))))
            (v128.store (i32.add (local.get $s) (local.get $cb)) (f32x4.add (v128.const f32x4 0 0 0 0) (v128.and (local.get $dv) (local.get $m1))))
            (v128.store (i32.add (local.get $s) (local.get $ipitch)) (f32x4.add (v128.const f32x4 0 0 0 0) (v128.and (local.get $dv) (local.get $m2))))
            (v128.store (i32.add (i32.add (local.get $s) (local.get $ipitch)) (local.get $cb))
                        (f32x4.add (v128.const f32x4 0 0 0 0) (v128.and (local.get $dv) (local.get $m3))))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $cl)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $xl)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $yl)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl))))

  ;; Patches of x as rows [batch·outH·outW, kh·kw·C] (row (b, oy, ox), column (ky, kx, c)), zeros
  ;; in the padding: conv.ts's im2col. Channels-last, so a kernel row inside the image is kw·C
  ;; consecutive floats: a copy in 16-byte pieces; a row in the padding, zeros; a row that
  ;; overhangs the left or right edge, cell by cell. Strides and padding are in cells. A window
  ;; wholly inside with kw·C ≤ 4 (a one-channel image's first layer) skips the per-row checks.
  (func (export "im2col") (param $x i32) (param $out i32) (param $batch i32) (param $inH i32) (param $inW i32) (param $C i32)
                          (param $outH i32) (param $outW i32) (param $kh i32) (param $kw i32)
                          (param $sh i32) (param $sw i32) (param $ph i32) (param $pw i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $ky i32) (local $kx i32)
    (local $y i32) (local $x0 i32) (local $xx i32) (local $s i32) (local $row i32) (local $img i32)
    (local $cb i32) (local $ipitch i32) (local $kwb i32) (local $e i32) (local $inside i32) (local $rowIn i32) (local $y0 i32)
    (local.set $cb (i32.shl (local.get $C) (i32.const 2)))
    (local.set $ipitch (i32.mul (local.get $inW) (local.get $cb)))
    (local.set $kwb (i32.mul (local.get $kw) (local.get $cb)))
    (local.set $b (i32.const 0))
    (block $bdone (loop $bl
      (br_if $bdone (i32.ge_u (local.get $b) (local.get $batch)))
      (local.set $img (i32.add (local.get $x) (i32.mul (i32.mul (local.get $b) (local.get $inH)) (local.get $ipitch))))
      (local.set $oy (i32.const 0))
      (block $ydone (loop $yl
        (br_if $ydone (i32.ge_s (local.get $oy) (local.get $outH)))
        ;; every kernel row of this output row inside the image, and a kernel row in one 16-byte piece
        (local.set $y0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $ph)))
        (local.set $rowIn (i32.and (i32.le_u (local.get $kwb) (i32.const 16))
          (i32.and (i32.ge_s (local.get $y0) (i32.const 0)) (i32.le_s (i32.add (local.get $y0) (local.get $kh)) (local.get $inH)))))
        (local.set $ox (i32.const 0))
        (block $xdone (loop $xl
          (br_if $xdone (i32.ge_s (local.get $ox) (local.get $outW)))
          (local.set $x0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pw)))
          (local.set $inside (i32.and (i32.ge_s (local.get $x0) (i32.const 0)) (i32.le_s (i32.add (local.get $x0) (local.get $kw)) (local.get $inW))))
          (local.set $ky (i32.const 0))
          (if (i32.and (local.get $rowIn) (local.get $inside))
            (then
              ;; the whole window inside, kw·C ≤ 4 floats (one channel, a 3×3 kernel): one 16-byte
              ;; load and store per kernel row, each store's spill overwritten by the next one
              (local.set $s (i32.add (i32.add (local.get $img) (i32.mul (local.get $y0) (local.get $ipitch)))
                                     (i32.mul (local.get $x0) (local.get $cb))))
              (loop $fl
                (v128.store (local.get $out) (v128.load (local.get $s)))
                (local.set $out (i32.add (local.get $out) (local.get $kwb)))
                (local.set $s (i32.add (local.get $s) (local.get $ipitch)))
                (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
                (br_if $fl (i32.lt_s (local.get $ky) (local.get $kh))))))
          (block $kydone (loop $kyl
            (br_if $kydone (i32.ge_s (local.get $ky) (local.get $kh)))
            (local.set $y (i32.add (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $ph)) (local.get $ky)))
            (local.set $e (i32.add (local.get $out) (local.get $kwb)))
            (if (i32.or (i32.lt_s (local.get $y) (i32.const 0)) (i32.ge_s (local.get $y) (local.get $inH)))
              (then
                ;; the kernel row lies in the padding
                (block $zdone (loop $zl
                  (br_if $zdone (i32.ge_u (local.get $out) (local.get $e)))
                  (i32.store (local.get $out) (i32.const 0))
                  (local.set $out (i32.add (local.get $out) (i32.const 4)))
                  (br $zl))))
              (else
                (local.set $row (i32.add (local.get $img) (i32.mul (local.get $y) (local.get $ipitch))))
                (if (local.get $inside)
                  (then
                    ;; kw·C consecutive floats, 16 bytes at a time: the last store may run up to 12
                    ;; bytes past this row's end, into what the next store writes (the caller
                    ;; leaves 16 bytes after the output); the loads may read past x's row likewise
                    (local.set $s (i32.add (local.get $row) (i32.mul (local.get $x0) (local.get $cb))))
                    (loop $cl
                      (v128.store (local.get $out) (v128.load (local.get $s)))
                      (local.set $out (i32.add (local.get $out) (i32.const 16)))
                      (local.set $s (i32.add (local.get $s) (i32.const 16)))
                      (br_if $cl (i32.lt_u (local.get $out) (local.get $e))))
                    (local.set $out (local.get $e)))
                  (else
                    ;; the window overhangs an edge: cell by cell
                    (local.set $kx (i32.const 0))
                    (block $kxdone (loop $kxl
                      (br_if $kxdone (i32.ge_s (local.get $kx) (local.get $kw)))
                      (local.set $xx (i32.add (local.get $x0) (local.get $kx)))
                      (if (i32.or (i32.lt_s (local.get $xx) (i32.const 0)) (i32.ge_s (local.get $xx) (local.get $inW)))
                        (then (memory.fill (local.get $out) (i32.const 0) (local.get $cb)))
                        (else (memory.copy (local.get $out) (i32.add (local.get $row) (i32.mul (local.get $xx) (local.get $cb))) (local.get $cb))))
                      (local.set $out (i32.add (local.get $out) (local.get $cb)))
                      (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                      (br $kxl)))))))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $kyl)))
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (br $xl)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $yl)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl))))

  ;; out = tanh(x) on n floats, kernels.ts's tanh32 step for step: x·(1 + x²·P(x²)) (Taylor) below
  ;; |x| = 1/16, else ±(1 − 2/(e^(2|x|) + 1)) with e^y = 2^k·e^r, r = y − k·ln 2 (Cody–Waite), e^r
  ;; by Taylor to r^12 in Estrin's scheme (|r| ≤ ln2/2: error ≈ 2e-16), |x| capped at 19 (tanh =
  ;; 1 in float64 there). Four floats an iteration as two independent f64x2 halves (suffixes 0
  ;; and 1), so that the two dependency chains overlap; n is rounded up to 4 by the caller.
  (func (export "tanh") (param $px i32) (param $out i32) (param $n i32)
    (local $end i32) (local $v v128) (local $x0 v128) (local $a0 v128) (local $x20 v128) (local $y0 v128) (local $k0 v128) (local $r0 v128) (local $r20 v128) (local $r40 v128) (local $t0 v128) (local $x1 v128) (local $a1 v128) (local $x21 v128) (local $y1 v128) (local $k1 v128) (local $r1 v128) (local $r21 v128) (local $r41 v128) (local $t1 v128)
    (local.set $end (i32.add (local.get $px) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $px) (local.get $end)))
        (local.set $v (v128.load (local.get $px)))
        (local.set $x0 (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $a0 (f64x2.abs (local.get $x0)))
        (local.set $y0 (f64x2.mul (v128.const f64x2 2 2) (f64x2.min (local.get $a0) (v128.const f64x2 19 19))))
        (local.set $k0 (f64x2.floor (f64x2.add (f64x2.mul (local.get $y0) (v128.const f64x2 1.4426950408889634 1.4426950408889634)) (v128.const f64x2 0.5 0.5))))
        (local.set $r0 (f64x2.sub (f64x2.sub (local.get $y0) (f64x2.mul (local.get $k0) (v128.const f64x2 0.6931471803691238 0.6931471803691238))) (f64x2.mul (local.get $k0) (v128.const f64x2 1.9082149292705877e-10 1.9082149292705877e-10))))
        (local.set $r20 (f64x2.mul (local.get $r0) (local.get $r0)))
        (local.set $r40 (f64x2.mul (local.get $r20) (local.get $r20)))
        (local.set $t0 (f64x2.mul (f64x2.add (f64x2.add (f64x2.add (f64x2.add (v128.const f64x2 1.0 1.0) (f64x2.mul (local.get $r0) (v128.const f64x2 1.0 1.0))) (f64x2.mul (f64x2.add (v128.const f64x2 0.5 0.5) (f64x2.mul (local.get $r0) (v128.const f64x2 0.16666666666666666 0.16666666666666666))) (local.get $r20))) (f64x2.mul (f64x2.add (f64x2.add (v128.const f64x2 0.041666666666666664 0.041666666666666664) (f64x2.mul (local.get $r0) (v128.const f64x2 0.008333333333333333 0.008333333333333333))) (f64x2.mul (f64x2.add (v128.const f64x2 0.001388888888888889 0.001388888888888889) (f64x2.mul (local.get $r0) (v128.const f64x2 0.0001984126984126984 0.0001984126984126984))) (local.get $r20))) (local.get $r40))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.add (v128.const f64x2 2.48015873015873e-05 2.48015873015873e-05) (f64x2.mul (local.get $r0) (v128.const f64x2 2.7557319223985893e-06 2.7557319223985893e-06))) (f64x2.mul (f64x2.add (v128.const f64x2 2.755731922398589e-07 2.755731922398589e-07) (f64x2.mul (local.get $r0) (v128.const f64x2 2.505210838544172e-08 2.505210838544172e-08))) (local.get $r20))) (f64x2.mul (v128.const f64x2 2.08767569878681e-09 2.08767569878681e-09) (local.get $r40))) (f64x2.mul (local.get $r40) (local.get $r40)))) (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k0))) (v128.const i64x2 1023 1023)) (i32.const 52))))
        (local.set $t0 (f64x2.sub (v128.const f64x2 1 1) (f64x2.div (v128.const f64x2 2 2) (f64x2.add (local.get $t0) (v128.const f64x2 1 1)))))
        (local.set $x20 (f64x2.mul (local.get $x0) (local.get $x0)))
        (local.set $t0 (v128.bitselect (f64x2.mul (local.get $x0) (f64x2.add (v128.const f64x2 1 1) (f64x2.mul (local.get $x20) (f64x2.add (v128.const f64x2 -0.3333333333333333 -0.3333333333333333) (f64x2.mul (local.get $x20) (f64x2.add (v128.const f64x2 0.13333333333333333 0.13333333333333333) (f64x2.mul (local.get $x20) (f64x2.add (v128.const f64x2 -0.05396825396825397 -0.05396825396825397) (f64x2.mul (local.get $x20) (v128.const f64x2 0.021869488536155203 0.021869488536155203)))))))))) (v128.bitselect (f64x2.neg (local.get $t0)) (local.get $t0) (f64x2.lt (local.get $x0) (v128.const f64x2 0 0))) (f64x2.lt (local.get $a0) (v128.const f64x2 0.0625 0.0625))))
        (local.set $x1 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $a1 (f64x2.abs (local.get $x1)))
        (local.set $y1 (f64x2.mul (v128.const f64x2 2 2) (f64x2.min (local.get $a1) (v128.const f64x2 19 19))))
        (local.set $k1 (f64x2.floor (f64x2.add (f64x2.mul (local.get $y1) (v128.const f64x2 1.4426950408889634 1.4426950408889634)) (v128.const f64x2 0.5 0.5))))
        (local.set $r1 (f64x2.sub (f64x2.sub (local.get $y1) (f64x2.mul (local.get $k1) (v128.const f64x2 0.6931471803691238 0.6931471803691238))) (f64x2.mul (local.get $k1) (v128.const f64x2 1.9082149292705877e-10 1.9082149292705877e-10))))
        (local.set $r21 (f64x2.mul (local.get $r1) (local.get $r1)))
        (local.set $r41 (f64x2.mul (local.get $r21) (local.get $r21)))
        (local.set $t1 (f64x2.mul (f64x2.add (f64x2.add (f64x2.add (f64x2.add (v128.const f64x2 1.0 1.0) (f64x2.mul (local.get $r1) (v128.const f64x2 1.0 1.0))) (f64x2.mul (f64x2.add (v128.const f64x2 0.5 0.5) (f64x2.mul (local.get $r1) (v128.const f64x2 0.16666666666666666 0.16666666666666666))) (local.get $r21))) (f64x2.mul (f64x2.add (f64x2.add (v128.const f64x2 0.041666666666666664 0.041666666666666664) (f64x2.mul (local.get $r1) (v128.const f64x2 0.008333333333333333 0.008333333333333333))) (f64x2.mul (f64x2.add (v128.const f64x2 0.001388888888888889 0.001388888888888889) (f64x2.mul (local.get $r1) (v128.const f64x2 0.0001984126984126984 0.0001984126984126984))) (local.get $r21))) (local.get $r41))) (f64x2.mul (f64x2.add (f64x2.add (f64x2.add (v128.const f64x2 2.48015873015873e-05 2.48015873015873e-05) (f64x2.mul (local.get $r1) (v128.const f64x2 2.7557319223985893e-06 2.7557319223985893e-06))) (f64x2.mul (f64x2.add (v128.const f64x2 2.755731922398589e-07 2.755731922398589e-07) (f64x2.mul (local.get $r1) (v128.const f64x2 2.505210838544172e-08 2.505210838544172e-08))) (local.get $r21))) (f64x2.mul (v128.const f64x2 2.08767569878681e-09 2.08767569878681e-09) (local.get $r41))) (f64x2.mul (local.get $r41) (local.get $r41)))) (i64x2.shl (i64x2.add (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k1))) (v128.const i64x2 1023 1023)) (i32.const 52))))
        (local.set $t1 (f64x2.sub (v128.const f64x2 1 1) (f64x2.div (v128.const f64x2 2 2) (f64x2.add (local.get $t1) (v128.const f64x2 1 1)))))
        (local.set $x21 (f64x2.mul (local.get $x1) (local.get $x1)))
        (local.set $t1 (v128.bitselect (f64x2.mul (local.get $x1) (f64x2.add (v128.const f64x2 1 1) (f64x2.mul (local.get $x21) (f64x2.add (v128.const f64x2 -0.3333333333333333 -0.3333333333333333) (f64x2.mul (local.get $x21) (f64x2.add (v128.const f64x2 0.13333333333333333 0.13333333333333333) (f64x2.mul (local.get $x21) (f64x2.add (v128.const f64x2 -0.05396825396825397 -0.05396825396825397) (f64x2.mul (local.get $x21) (v128.const f64x2 0.021869488536155203 0.021869488536155203)))))))))) (v128.bitselect (f64x2.neg (local.get $t1)) (local.get $t1) (f64x2.lt (local.get $x1) (v128.const f64x2 0 0))) (f64x2.lt (local.get $a1) (v128.const f64x2 0.0625 0.0625))))
        (v128.store (local.get $out)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $t0)) (f32x4.demote_f64x2_zero (local.get $t1))))
        (local.set $px (i32.add (local.get $px) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $next))))
)
