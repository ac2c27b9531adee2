; count(i64)
;  16          s += escape(i / k, 50)
;  15      for i in range(k):
.L1:
.L2:                               ; loop
;  16          s += escape(i / k, 50)
.L3:                               ; loop (innermost)
.L4:
;  17      return s
.L5:
.L6:
    call kiln_raise_recursion
    call kiln_trace
;  16          s += escape(i / k, 50)
.L7:
    call kiln_raise_interrupt
    call kiln_trace
;  17      return s
.L8:

; fact(i64)
;  20      if n <= 1:
;  22      return n * fact(n - 1)
.L1:
.L2:
.L3:
    call kiln_raise_recursion
    call kiln_trace
.L4:
    call kiln_trace
.L5:

; <cell>
;  24  count(10) + fact(5)
.L1:
    call kiln_trace
.L2:
    call kiln_trace
.L3:

