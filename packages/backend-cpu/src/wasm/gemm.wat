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
  (func $pack (param $src i32) (param $rows i32) (param $k0 i32) (param $kc i32)
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
  (func (export "gemm")
    (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
    (param $ars i32) (param $aps i32) (param $brs i32) (param $bps i32)
    (param $pa i32) (param $pb i32) (param $kcMax i32) (param $mcMax i32) (param $ldcf i32) (param $sc i32)
    (local $k0 i32) (local $kc i32) (local $i0 i32) (local $mc i32) (local $j0 i32) (local $i i32)
    (local $ldc i32) (local $first i32) (local $cols i32) (local $bpanel i32) (local $crow i32)
    (local.set $ldc (i32.shl (local.get $ldcf) (i32.const 2)))
    (local.set $k0 (i32.const 0))
    (loop $kblock
      (local.set $kc (i32.sub (local.get $k) (local.get $k0)))
      (if (i32.gt_u (local.get $kc) (local.get $kcMax)) (then (local.set $kc (local.get $kcMax))))
      (local.set $first (i32.eqz (local.get $k0)))
      (call $pack (local.get $b) (local.get $n) (local.get $k0) (local.get $kc)
                  (local.get $brs) (local.get $bps) (local.get $pb) (i32.const 8))
      (local.set $i0 (i32.const 0))
      (loop $mblock
        (local.set $mc (i32.sub (local.get $m) (local.get $i0)))
        (if (i32.gt_u (local.get $mc) (local.get $mcMax)) (then (local.set $mc (local.get $mcMax))))
        (call $pack (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i0) (local.get $ars)) (i32.const 2)))
                    (local.get $mc) (local.get $k0) (local.get $kc)
                    (local.get $ars) (local.get $aps) (local.get $pa) (i32.const 4))
        (local.set $j0 (i32.const 0))
        (loop $jpanel
          (local.set $cols (i32.sub (local.get $n) (local.get $j0)))
          (if (i32.gt_u (local.get $cols) (i32.const 8)) (then (local.set $cols (i32.const 8))))
          (local.set $bpanel (i32.add (local.get $pb) (i32.shl (i32.mul (local.get $j0) (local.get $kc)) (i32.const 2))))
          (local.set $i (i32.const 0))
          (loop $ipanel
            (local.set $crow (i32.sub (local.get $mc) (local.get $i)))
            (if (i32.gt_u (local.get $crow) (i32.const 4)) (then (local.set $crow (i32.const 4))))
            (call $kernel
              (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $i) (local.get $kc)) (i32.const 2)))
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
      (br_if $kblock (i32.lt_u (local.get $k0) (local.get $k))))))
