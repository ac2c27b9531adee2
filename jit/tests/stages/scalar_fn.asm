; <cell>
;   3  r = axpy(2.0, 3.0, 1.0)
.L1:
    call kiln_trace

