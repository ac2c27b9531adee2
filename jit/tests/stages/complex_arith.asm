; <cell>
;   3  w = step(0.5 + 0.5j, -0.75 + 0.1j)
;   4  m = abs(w) / 2.0
    call kiln_c_abs
;   3  w = step(0.5 + 0.5j, -0.75 + 0.1j)
.L1:
    call kiln_trace
;   4  m = abs(w) / 2.0

