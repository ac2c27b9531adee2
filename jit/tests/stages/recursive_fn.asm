; fact(i64)
;   2      if n <= 1:
;   4      return n * fact(n - 1)
.L1:
.L2:
.L3:
    call kiln_raise_recursion
    call kiln_trace
.L4:
    call kiln_trace
.L5:

; <cell>
;   5  f = fact(10)
.L1:
    call kiln_trace

